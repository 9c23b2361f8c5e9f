"""`harrow-server up` as a user runs it, twice on one data directory.

The first start prints an admin token, once, on stdout (never in the log), and
it authenticates; the second start prints none and the old token still works.
The key `up` generates to seal kubeconfigs is a file only its owner can read,
it is what the stored kubeconfig is sealed with, and the second start uses
the same key: a cluster registered before the restart still opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import stat
import sys
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from google.protobuf import field_mask_pb2
from harrow.v1 import cluster_pb2

from server.auth.secret_box import SecretBox, decode_key
from tests.conftest import remember_kubeconfig, remember_secret, watch_output
from tests.e2e.clients import ApiError, RestApi

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from storage.embedded import EmbeddedPostgres

SERVER = Path(sys.executable).with_name("harrow-server")
TOKEN = re.compile(r"harrow_[A-Za-z0-9_-]{20,}")
CLUSTERS = "ClusterService"
# Port 1 refuses at once: the reconciler's attempts to reach this cluster cost nothing.
EDGE_TOKEN = "kc-" + secrets.token_hex(16)
EDGE_KUBECONFIG = f"""apiVersion: v1
kind: Config
clusters: [{{name: edge, cluster: {{server: "https://127.0.0.1:1"}}}}]
users: [{{name: edge, user: {{token: {EDGE_TOKEN}}}}}]
contexts: [{{name: edge, context: {{cluster: edge, user: edge}}}}]
current-context: edge
"""


@dataclass
class Up:
    process: asyncio.subprocess.Process
    rest: str
    stdout: list[str]  # what it printed until it served
    stderr: list[bytes] = field(default_factory=list)  # its log
    drain: asyncio.Task[None] | None = None

    async def stop(self) -> tuple[str, str]:
        """SIGTERM (Ctrl-C's effect); all it printed on stdout and logged on stderr.

        A server that does not stop within 30 s is killed (the test then fails on its exit code), so that a
        hung shutdown fails the test instead of outliving the session. Its embedded PostgreSQL, which it
        would have stopped, is left to the `data_dir` fixture."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        assert self.process.stdout is not None
        try:
            rest = await asyncio.wait_for(self.process.stdout.read(), 30)
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            rest = b"\n(killed: still running 30 s after SIGTERM)\n"
        if self.drain is not None:
            await self.drain
        return "".join(self.stdout) + rest.decode(), b"".join(self.stderr).decode(errors="replace")


async def _read(stream: asyncio.StreamReader, into: list[bytes]) -> None:
    while line := await stream.readline():
        into.append(line)


async def start_up(data_dir: Path) -> Up:
    # A user's shell: no HARROW_* settings, so `up` picks its own key, database and cluster.
    env = {name: value for name, value in os.environ.items() if not name.startswith("HARROW_")}
    process = await asyncio.create_subprocess_exec(
        str(SERVER),
        *("up", "--data-dir", str(data_dir), "--grpc-port", "0", "--rest-port", "0"),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    up = Up(process, rest="", stdout=[])
    up.drain = asyncio.create_task(_read(process.stderr, up.stderr))
    try:
        while not up.stdout or "Ctrl-C stops it." not in up.stdout[-1]:
            line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            assert line, f"harrow-server up exited before serving: {b''.join(up.stderr)[-2000:]!r}"
            up.stdout.append(line)
        up.rest = next((line.split()[1] for line in up.stdout if line.split()[:1] == ["REST"]), "")
        assert up.rest, f"harrow-server up printed no REST address: {up.stdout}"
    except BaseException:
        await up.stop()  # its embedded PostgreSQL with it
        raise
    return up


@contextlib.asynccontextmanager
async def rest(up: Up, token: str | None) -> AsyncIterator[RestApi]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession(headers=headers) as session:
        yield RestApi(session, up.rest)


async def stored_kubeconfig(data_dir: Path, name: str) -> bytes:
    """The row as `up`'s embedded PostgreSQL holds it (its port is in postmaster.pid, line 4)."""
    port = (data_dir / "postgres" / "data" / "postmaster.pid").read_text().splitlines()[3]
    connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    try:
        value: bytes = await connection.fetchval("SELECT kubeconfig FROM clusters WHERE name = $1", name)
    finally:
        await connection.close()
    return value


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Not under pytest's tmp_path, which another pytest run may prune while `up`'s PostgreSQL uses it."""
    root = Path(tempfile.mkdtemp(prefix="harrow-test-up-"))
    try:
        yield root / "harrow"
    finally:
        EmbeddedPostgres(root / "harrow" / "postgres").stop()  # only if a failed start left it running
        shutil.rmtree(root, ignore_errors=True)


async def test_up_prints_the_admin_token_once_and_keeps_its_key_across_a_restart(data_dir: Path) -> None:
    key_file = data_dir / "secret.key"
    remember_secret(EDGE_TOKEN, "the kubeconfig registered with harrow-server up")
    outputs: list[tuple[str, str]] = []

    first = await start_up(data_dir)
    try:
        printed = TOKEN.findall("".join(first.stdout))
        assert len(printed) == 1, first.stdout
        token = printed[0]
        remember_secret(token, "the admin token harrow-server up printed")
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key_text = key_file.read_text()
        key = decode_key(key_text, str(key_file))
        remember_secret(key, "the key harrow-server up generated")
        remember_kubeconfig((data_dir / "kubeconfig").read_text(), "the embedded cluster of harrow-server up")

        async with rest(first, token) as admin:
            listed = await admin.call(CLUSTERS, "ListClusters", cluster_pb2.ListClustersRequest())
            assert [cluster.name for cluster in listed.clusters] == ["clusters/local"]
            request = cluster_pb2.CreateClusterRequest(
                cluster_id="edge", cluster=cluster_pb2.Cluster(kubeconfig=EDGE_KUBECONFIG)
            )
            edge = await admin.call(CLUSTERS, "CreateCluster", request)
        async with rest(first, None) as anonymous:
            with pytest.raises(ApiError) as refused:
                await anonymous.call(CLUSTERS, "ListClusters", cluster_pb2.ListClustersRequest())
        assert refused.value.http_status == 401
        sealed = await stored_kubeconfig(data_dir, "clusters/edge")
        assert EDGE_TOKEN.encode() not in sealed
        assert SecretBox(key).open(sealed, "clusters/edge") == EDGE_KUBECONFIG.encode()  # sealed with the file's key
    finally:
        outputs.append(await first.stop())
    assert first.process.returncode == 0, outputs[0][1][-2000:]

    second = await start_up(data_dir)
    try:
        assert TOKEN.findall("".join(second.stdout)) == [], second.stdout
        remember_kubeconfig((data_dir / "kubeconfig").read_text(), "the embedded cluster of harrow-server up")
        assert key_file.read_text() == key_text and stat.S_IMODE(key_file.stat().st_mode) == 0o600
        async with rest(second, token) as admin:
            listed = await admin.call(CLUSTERS, "ListClusters", cluster_pb2.ListClustersRequest())
            assert sorted(cluster.name for cluster in listed.clusters) == ["clusters/edge", "clusters/local"]
            # Sending the same kubeconfig again: the server opens the stored one to compare. With another key
            # that fails; with the same key it matches, and nothing changes.
            same = cluster_pb2.UpdateClusterRequest(
                cluster=cluster_pb2.Cluster(name="clusters/edge", kubeconfig=EDGE_KUBECONFIG),
                update_mask=field_mask_pb2.FieldMask(paths=["kubeconfig"]),
            )
            updated = await admin.call(CLUSTERS, "UpdateCluster", same)
        assert updated.generation == edge.generation
    finally:
        outputs.append(await second.stop())
    assert second.process.returncode == 0, outputs[1][1][-2000:]

    (first_stdout, first_log), (second_stdout, second_log) = outputs
    assert first_stdout.count(token) == 1 and token not in first_log + second_stdout + second_log
    assert TOKEN.findall(second_stdout) == []  # no new admin token either, up to its shutdown
    for secret in (key_text.strip(), EDGE_TOKEN):
        assert secret not in first_stdout + first_log + second_stdout + second_log
    # The one line meant to carry the token is the only place it may be; everything else goes to the watch.
    watch_output("stdout of harrow-server up (first start)", first_stdout.replace(token, "<the admin token>"))
    watch_output("log of harrow-server up (first start)", first_log)
    watch_output("stdout of harrow-server up (second start)", second_stdout)
    watch_output("log of harrow-server up (second start)", second_log)
