"""Paging that holds under concurrent writes, and a database outage the server survives."""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from harrow.v1 import virtual_machine_pb2 as vm_pb
from harrow.v1 import virtual_machine_pb2_grpc

from server.app import Harrow
from server.config import AuthConfig, ListenConfig, Settings
from server.services.common import make_etag
from storage.embedded import EmbeddedPostgres
from storage.migrate import upgrade_async
from tests.e2e.builders import PARENT, create_request, vm_name


async def create_many(stub, ids: list[str], concurrency: int = 16) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(vm_id: str) -> None:
        async with gate:
            await stub.CreateVirtualMachine(create_request(vm_id))

    await asyncio.gather(*(one(vm_id) for vm_id in ids))


async def copy_vm(database_url: str, source: str, ids: list[str]) -> None:
    """Rows for `ids`, each a copy of the VM named `source` under its own name, uid and etag, in one INSERT.

    Paging is what is tested, not 2,000 creates (those took 9-31 s here): the rows are the ones a create wrote,
    copied column for column (jsonb_populate_record keeps every column not named here), so the List reads
    exactly what it would read after real creates.
    """
    uids = [uuid.uuid4() for _ in ids]
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            """
            INSERT INTO virtual_machines
            SELECT (jsonb_populate_record(
                v, jsonb_build_object('uid', copy.uid, 'name', copy.name, 'etag', copy.etag)
            )).*
            FROM virtual_machines v, unnest($2::uuid[], $3::text[], $4::text[]) AS copy(uid, name, etag)
            WHERE v.name = $1
            """,
            source,
            uids,
            [vm_name(vm_id) for vm_id in ids],
            [make_etag(uid, 1) for uid in uids],
        )
        assert await connection.fetchval("SELECT count(*) FROM virtual_machines") == len(ids) + 1
    finally:
        await connection.close()


async def test_paging_2000_vms_sees_each_exactly_once_while_vms_are_inserted(harrow, channel) -> None:
    stub = virtual_machine_pb2_grpc.VirtualMachineServiceStub(channel)
    existing = [f"vm-{index:04d}" for index in range(2000)]
    await create_many(stub, existing[:1])
    await copy_vm(harrow.database_url, vm_name(existing[0]), existing[1:])

    # Inserted while paging: names that sort before, between and after the existing ones.
    newcomers = [f"{prefix}-{index:03d}" for index in range(60) for prefix in ("a", "vm-0500x", "z")]
    inserting = asyncio.create_task(create_many(stub, newcomers, concurrency=4))
    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListVirtualMachines(
            vm_pb.ListVirtualMachinesRequest(parent=PARENT, page_size=100, page_token=token)
        )
        seen += [vm.name for vm in page.virtual_machines]
        token = page.next_page_token
        await asyncio.sleep(0)
        if not token:
            break
    await inserting

    assert len(seen) == len(set(seen)), "a VM was listed twice"
    assert {vm_name(vm_id) for vm_id in existing} <= set(seen), "a VM that existed throughout was skipped"
    assert seen == sorted(seen)


@pytest.fixture
async def private_postgres():
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="harrow-outage-")))
    server.start()
    try:
        yield server
    finally:
        server.remove()


async def test_database_outage_is_unavailable_then_recovers_without_restart(private_postgres) -> None:
    await upgrade_async(private_postgres.url())
    settings = Settings(
        listen=ListenConfig(grpc_port=0, rest_port=0),
        database_url=private_postgres.url(),
        auth=AuthConfig(authenticate=False),
    )
    app = Harrow(settings)
    endpoints = await app.start()
    request = vm_pb.GetVirtualMachineRequest(name=vm_name("web-1"))
    try:
        async with grpc.aio.insecure_channel(endpoints.grpc) as channel, aiohttp.ClientSession() as http:
            stub = virtual_machine_pb2_grpc.VirtualMachineServiceStub(channel)
            await stub.CreateVirtualMachine(create_request("web-1"))
            await asyncio.to_thread(private_postgres.stop)

            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await stub.GetVirtualMachine(request)
            assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
            status = rpc_status.from_call(raised.value)
            retry = [d for d in status.details if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR)]
            assert retry, "UNAVAILABLE carries a RetryInfo hint"
            async with http.get(f"{endpoints.rest}/v1/{vm_name('web-1')}") as response:
                assert response.status == 503

            await asyncio.to_thread(private_postgres.start)
            deadline = time.monotonic() + 15
            while True:
                try:
                    vm = await stub.GetVirtualMachine(request)
                    break
                except grpc.aio.AioRpcError as error:
                    assert error.code() == grpc.StatusCode.UNAVAILABLE
                    assert time.monotonic() < deadline, "did not recover after the database came back"
                    await asyncio.sleep(0.2)
            assert vm.name == vm_name("web-1")
    finally:
        await app.stop(grace_seconds=0)
