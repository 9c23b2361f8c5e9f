"""kill -9 of one of two `harrow-server serve` replicas mid-way: the other takes its leases over, nothing is lost
and no cluster object is made twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from harrow.v1 import virtual_machine_pb2 as vm_pb
from kubernetes_asyncio import client

from tests.conftest import watch_output
from tests.e2e.reconcile.conftest import Start, eventually
from tests.e2e.reconcile.test_convergence import KV, count_in_state, create_all

VMS_COUNT = 60
SERVER = Path(sys.executable).with_name("harrow-server")


@pytest.fixture
async def serve(database_url: str) -> AsyncIterator[Callable[[], Awaitable[asyncio.subprocess.Process]]]:
    """Starts `harrow-server serve` replicas on the test's database; each is stopped (or already killed) at the end."""
    env = {
        **os.environ,
        "HARROW_DATABASE_URL": database_url,
        "HARROW_RECONCILE_LEASE_SECONDS": "3",
        "HARROW_RECONCILE_POLL_SECONDS": "0.2",
        "HARROW_RECONCILE_BACKOFF_BASE_SECONDS": "0.1",
        "HARROW_RECONCILE_BACKOFF_MAX_SECONDS": "1",
    }
    processes: list[asyncio.subprocess.Process] = []
    drains: list[asyncio.Task[None]] = []
    outputs: list[list[bytes]] = []  # each replica's log, for the session's secret watch

    async def start() -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            str(SERVER),
            *("serve", "--host", "127.0.0.1", "--grpc-port", "0", "--rest-port", "0", "--insecure"),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        processes.append(process)
        assert process.stdout is not None
        lines: list[bytes] = []
        outputs.append(lines)
        while b"Harrow is serving" not in (line := await asyncio.wait_for(process.stdout.readline(), 30)):
            assert line, "the replica exited before serving"
            lines.append(line)
        lines.append(line)
        drains.append(asyncio.create_task(_drain(process.stdout, lines)))
        return process

    try:
        yield start
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            await asyncio.wait_for(process.wait(), 15)
        for drain in drains:
            drain.cancel()
        for number, lines in enumerate(outputs):
            watch_output(f"log of harrow-server serve replica {number}", b"".join(lines))


async def _drain(stream: asyncio.StreamReader, lines: list[bytes]) -> None:
    """Read the replica's log so a full pipe never blocks it."""
    while line := await stream.readline():
        lines.append(line)


async def test_kill_9_of_a_replica_loses_nothing_and_duplicates_nothing(
    start_harrow: Start,
    serve: Callable[[], Awaitable[asyncio.subprocess.Process]],
    namespace: str,
    kube: client.ApiClient,
) -> None:
    api = await start_harrow(enabled=False)
    replicas = [await serve(), await serve()]
    parent = f"clusters/local/namespaces/{namespace}"
    await create_all(api, parent, VMS_COUNT)
    await eventually(lambda: count_in_state(api, parent, "RUNNING"), within=15, every=0.05)
    replicas[0].send_signal(signal.SIGKILL)
    await replicas[0].wait()
    assert await count_in_state(api, parent, "RUNNING") < VMS_COUNT, "killed mid-way"

    async def all_running() -> bool:
        return await count_in_state(api, parent, "RUNNING") == VMS_COUNT

    await eventually(all_running, within=25, every=0.25)
    custom = client.CustomObjectsApi(kube)
    rows = await api.api.call(
        "VirtualMachineService", "ListVirtualMachines", vm_pb.ListVirtualMachinesRequest(parent=parent, page_size=1000)
    )
    uids = {vm.name.rsplit("/", 1)[1]: vm.uid for vm in rows.virtual_machines}
    for plural in ("virtualmachines", "virtualmachineinstances"):
        listed = await custom.list_namespaced_custom_object(*KV, namespace, plural)
        assert len(listed["items"]) == VMS_COUNT
        assert {i["metadata"]["name"]: i["metadata"]["labels"]["harrow.io/uid"] for i in listed["items"]} == uids
