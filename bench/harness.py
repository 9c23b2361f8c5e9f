"""Shared bench plumbing: a private PostgreSQL, a Harrow server in its own process, pgbench, results.

The server runs as a separate `harrow-server serve` process so the load
generator (this process) does not share its interpreter; pgbench, the
baseline, is a separate process too. Both hit the same PostgreSQL in the
same run, so the ratio survives a noisy machine.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    from storage.embedded import POSTGRES_BIN, EmbeddedPostgres, free_port

from storage.migrate import upgrade

RESULTS = Path(__file__).with_name("results")


@contextlib.contextmanager
def postgres() -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="harrow-bench-pg-")))
    server.start()
    try:
        upgrade(server.url())
        yield server
    finally:
        server.remove()


@dataclass(frozen=True)
class Endpoints:
    grpc: str
    rest: str


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
    endpoints = Endpoints(grpc=f"127.0.0.1:{grpc_port}", rest=f"http://127.0.0.1:{rest_port}")
    try:
        async with grpc.aio.insecure_channel(endpoints.grpc) as channel:
            await asyncio.wait_for(channel.channel_ready(), 60)
        yield endpoints
    finally:
        process.terminate()
        await process.wait()


def pgbench_inserts(server: EmbeddedPostgres, clients: int, seconds: int) -> float:
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
