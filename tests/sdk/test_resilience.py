"""What the SDK does when the server goes away and comes back: retries that act once, watches that resume."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import harrow
import pytest
from harrow.v1 import common_pb2
from harrow.v1 import virtual_machine_pb2 as vm_pb

from storage.db import Database
from storage.repos import changes
from tests.sdk.conftest import FAST_RETRY, PARENT, Server, machine, vm_name
from tests.sdk.proxy import Proxy


@pytest.fixture
async def proxy(server: Server) -> AsyncIterator[Proxy]:
    running = Proxy(server.grpc)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not true after {seconds} s")


async def test_a_mutation_whose_reply_was_lost_is_retried_across_a_restart_and_acts_once(
    server: Server, proxy: Proxy
) -> None:
    async with harrow.Client(proxy.address, retry=FAST_RETRY) as client, harrow.Client(server.grpc) as direct:
        # Warm the connection so the create's bytes are the only ones sent after this point.
        await client.get_cluster(name="clusters/local")
        proxy.swallow_replies = True
        create = asyncio.ensure_future(
            client.create_virtual_machine(parent=PARENT, virtual_machine_id="once", virtual_machine=machine())
        )

        async def landed() -> bool:
            return [vm.name async for vm in direct.list_virtual_machines(parent=PARENT)] == [vm_name("once")]

        await eventually(landed)  # the server acted; the client has not heard back
        assert not create.done()

        await server.stop()
        proxy.drop_connections()  # the client sees UNAVAILABLE and retries against a server that is down
        await asyncio.sleep(0.5)
        proxy.swallow_replies = False
        await server.start()

        operation = await asyncio.wait_for(create, 30)

    async with harrow.Client(server.grpc) as client:
        operations = [op async for op in client.list_operations(name="", filter=f'target = "{vm_name("once")}"')]
        assert [op.name for op in operations] == [operation.name]  # the retry got the first answer
        assert (await client.get_virtual_machine(name=vm_name("once"))).generation == 1


async def test_reads_wait_out_a_restart(server: Server) -> None:
    async with harrow.Client(server.grpc, retry=FAST_RETRY) as client:
        await server.stop()
        read = asyncio.ensure_future(client.get_cluster(name="clusters/local"))
        await asyncio.sleep(0.5)
        assert not read.done()
        await server.start()
        assert (await asyncio.wait_for(read, 30)).name == "clusters/local"


async def test_without_retries_unavailable_is_raised(server: Server) -> None:
    async with harrow.Client(server.grpc, retry=harrow.RetryConfig(max_attempts=1)) as client:
        await server.stop()
        with pytest.raises(harrow.Unavailable):
            await client.get_cluster(name="clusters/local")


async def test_watch_resumes_after_a_restart_without_missing_a_change(server: Server) -> None:
    async with harrow.Client(server.grpc, retry=FAST_RETRY) as client:
        stream = client.watch_virtual_machines(parent=PARENT)

        async def first_change_of(vm_id: str) -> vm_pb.WatchVirtualMachinesResponse:
            # The reconciler keeps writing status for the other VM; only this VM's events count here.
            async for event in stream:
                if event.type != common_pb2.BOOKMARK and event.virtual_machine.name == vm_name(vm_id):
                    return event
            raise AssertionError("the stream ended")

        pending = asyncio.ensure_future(first_change_of("before"))
        await client.create_virtual_machine(parent=PARENT, virtual_machine_id="before", virtual_machine=machine())
        assert (await asyncio.wait_for(pending, 10)).type == common_pb2.ADDED

        await server.stop()
        pending = asyncio.ensure_future(first_change_of("after"))
        await asyncio.sleep(0.3)
        await server.start()
        # Written while the stream was down or reconnecting: its ADDED must still arrive; a resume from the
        # wrong revision would skip it and show the reconciler's later MODIFIED first.
        await client.create_virtual_machine(parent=PARENT, virtual_machine_id="after", virtual_machine=machine())
        assert (await asyncio.wait_for(pending, 30)).type == common_pb2.ADDED
        await stream.aclose()


async def compact_history(server: Server) -> None:
    db = Database(server.settings.database_url)
    try:
        async with db.transaction() as session:
            await changes.compact(session, keep=1)
    finally:
        await db.close()


async def test_a_compacted_revision_raises_out_of_range_unless_relist_was_asked_for(server: Server) -> None:
    async with harrow.Client(server.grpc, retry=FAST_RETRY) as client:
        for vm_id in ("a", "b", "c"):
            await client.create_virtual_machine(parent=PARENT, virtual_machine_id=vm_id, virtual_machine=machine())
        await compact_history(server)

        with pytest.raises(harrow.OutOfRange) as too_old:
            await anext(client.watch_virtual_machines(parent=PARENT, since_revision=1))
        assert too_old.value.reason == "REVISION_COMPACTED"

        stream = client.watch_virtual_machines(parent=PARENT, since_revision=1, relist=True)
        snapshot = [await anext(stream) for _ in range(3)]
        assert {(e.type, e.virtual_machine.name) for e in snapshot} == {
            (common_pb2.ADDED, vm_name(vm_id)) for vm_id in ("a", "b", "c")
        }
        await client.create_virtual_machine(parent=PARENT, virtual_machine_id="d", virtual_machine=machine())
        event = await asyncio.wait_for(anext(stream), 10)
        while event.type == common_pb2.BOOKMARK or event.virtual_machine.name != vm_name("d"):
            event = await asyncio.wait_for(anext(stream), 10)
        assert event.type == common_pb2.ADDED and stream.revision == event.revision
        await stream.aclose()
