"""Shared bench plumbing: a private PostgreSQL, a Harrow server in its own process, pgbench, results.

The server runs as a separate `harrow-server serve` process so the load
generator (this process) does not share its interpreter; pgbench, the
baseline, is a separate process too. Both hit the same PostgreSQL in the
same run, so the ratio survives a noisy machine.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from storage.embedded import POSTGRES_BIN, SUPERUSER, EmbeddedPostgres, free_port

from storage.migrate import upgrade

RESULTS = Path(__file__).with_name("results")
# Harrow's own shutdown bounds each step to 10 s (server.app.STOP_SECONDS) after a 5 s gRPC grace.
STOP_SECONDS = 30.0


@dataclass(frozen=True)
class BenchDatabase:
    """One bench's own database on the run's PostgreSQL server."""

    name: str
    port: int

    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{self.name}"


_server: EmbeddedPostgres | None = None
_databases = itertools.count()
_TEMPLATE = "harrow_bench_template"


def _psql(server: EmbeddedPostgres, sql: str) -> None:
    subprocess.run([str(POSTGRES_BIN / "psql"), server.url(), "-q", "-c", sql], check=True)


@contextlib.contextmanager
def postgres() -> Iterator[BenchDatabase]:
    """A fresh, migrated database. Every bench of a run shares one PostgreSQL server (started, and the schema
    migrated into a template, once): initdb and migrations cost seconds that would otherwise repeat per bench."""
    global _server
    if _server is None:
        server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="harrow-bench-pg-")))
        server.start()
        atexit.register(server.remove)
        _psql(server, f"CREATE DATABASE {_TEMPLATE}")
        upgrade(BenchDatabase(_TEMPLATE, server.port).url())
        _server = server
    name = f"bench_{next(_databases)}"
    _psql(_server, f"CREATE DATABASE {name} TEMPLATE {_TEMPLATE}")
    try:
        yield BenchDatabase(name, _server.port)
    finally:
        _psql(_server, f"DROP DATABASE {name} WITH (FORCE)")


@dataclass(frozen=True)
class Endpoints:
    grpc: str
    rest: str
    # The server process, for reading its memory (rss_mib).
    pid: int = 0


@contextlib.asynccontextmanager
async def harrow_process(database_url: str, **env_overrides: str) -> AsyncIterator[Endpoints]:
    """`harrow-server serve` on loopback, reconciler off unless asked; yields its endpoints once it answers."""
    grpc_port, rest_port = free_port(), free_port()
    env = {
        **os.environ,
        "HARROW_DATABASE_URL": database_url,
        "HARROW_DATABASE_POOL_SIZE": "20",
        "HARROW_RECONCILE": "off",
        "HARROW_AUTH": "off",
        **env_overrides,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "serve",
        "--insecure",
        "--host",
        "127.0.0.1",
        "--grpc-port",
        str(grpc_port),
        "--rest-port",
        str(rest_port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoints = Endpoints(grpc=f"127.0.0.1:{grpc_port}", rest=f"http://127.0.0.1:{rest_port}", pid=process.pid)
    profiler = await _profile(process.pid)
    try:
        async with grpc.aio.insecure_channel(endpoints.grpc) as channel:
            await asyncio.wait_for(channel.channel_ready(), 60)
        yield endpoints
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_SECONDS)
        except TimeoutError:
            # A server bug, not the bench's: say so, and do not let it hold the run.
            print(f"  !! harrow-server (pid {process.pid}) still running {STOP_SECONDS:.0f} s after SIGTERM; killed")
            process.kill()
            await process.wait()
        if profiler is not None:
            await profiler.wait()


async def _profile(pid: int) -> asyncio.subprocess.Process | None:
    """With HARROW_BENCH_PROFILE=DIR, py-spy samples the server for its whole life into DIR/server-PID.txt.

    Collapsed stacks (py-spy's raw format): grep-able, and speedscope.app or flamegraph.pl draw them."""
    directory = os.environ.get("HARROW_BENCH_PROFILE")
    if not directory:
        return None
    os.makedirs(directory, exist_ok=True)
    py_spy = Path(sys.executable).with_name("py-spy")
    return await asyncio.create_subprocess_exec(
        str(py_spy),
        "record",
        "--pid",
        str(pid),
        "--rate",
        "50",
        "--format",
        "raw",
        "--output",
        str(Path(directory) / f"server-{pid}.txt"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_for_port(port: int, seconds: float = 60.0) -> None:
    """Until something accepts connections on 127.0.0.1:`port` (a process started at a busy moment may take a while)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)
        else:
            writer.close()
            await writer.wait_closed()
            return


def pgbench_inserts(server: BenchDatabase, clients: int, seconds: int) -> float:
    """Single-row INSERT transactions/s that pgbench reaches on this PostgreSQL."""
    url = server.url()
    subprocess.run(
        [
            str(POSTGRES_BIN / "psql"),
            url,
            "-q",
            "-c",
            "CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, owner text, at timestamptz)",
        ],
        check=True,
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write("INSERT INTO bench_insert (owner, at) VALUES ('bench', now());\n")
    out = subprocess.run(
        [
            str(POSTGRES_BIN / "pgbench"),
            "-n",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            "-f",
            script.name,
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"tps = ([0-9.]+)", out)
    if match is None:
        raise RuntimeError(f"pgbench printed no tps:\n{out}")
    return float(match.group(1))


def save(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"bench": name, "at": datetime.now(UTC).isoformat(), **figures}, indent=2))
    return path


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure next to its baseline, and whether it meets its target.

    `ratio` is measured / baseline whatever the unit; `met` is decided by the bench, which knows
    whether more is better (per second) or less (latency, seconds, memory).
    """

    figure: str
    measured: float
    baseline: float
    unit: str
    target: str
    met: bool | None

    @property
    def ratio(self) -> float | None:
        return self.measured / self.baseline if self.baseline else None


def throughput_row(figure: str, measured: float, baseline: float, target: float) -> Row:
    """The older benches' (figure, measured/s, baseline/s, target ratio) tuples as a Row."""
    return Row(figure, measured, baseline, "/s", f">= {target}x", bool(baseline) and measured / baseline >= target)


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc (Linux), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far, from /proc (Linux): a figure the machine's
    other load does not inflate the way it inflates wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, so utime and stime (fields 14 and 15) sit at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")
