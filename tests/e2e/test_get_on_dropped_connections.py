"""A Get reads through the driver on a pooled connection: connections PostgreSQL dropped do not stay in the pool.

As with SQLAlchemy everywhere else, the call that finds the pool dead is UNAVAILABLE (retryable) and
the pool is renewed; every call after it answers.
"""

from __future__ import annotations

import asyncio

import aiohttp
import asyncpg
import grpc
from google.protobuf import json_format
from harrow.v1 import virtual_machine_pb2 as vm_pb
from harrow.v1 import virtual_machine_pb2_grpc

from storage.migrate import async_url
from tests.e2e.builders import create_request, vm_name
from tests.e2e.conftest import Running


async def test_gets_answer_again_after_postgresql_dropped_every_pooled_connection(
    harrow: Running, channel: grpc.aio.Channel, http: aiohttp.ClientSession
) -> None:
    stub = virtual_machine_pb2_grpc.VirtualMachineServiceStub(channel)
    await stub.CreateVirtualMachine(create_request("web-1"))
    request = vm_pb.GetVirtualMachineRequest(name=vm_name("web-1"))
    # Enough Gets at once that the pool holds several connections.
    before = await asyncio.gather(*(stub.GetVirtualMachine(request) for _ in range(8)))

    admin = await asyncpg.connect(async_url(harrow.database_url).replace("postgresql+asyncpg", "postgresql"))
    try:
        dropped = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
    finally:
        await admin.close()
    assert dropped >= 1

    answers: list[vm_pb.VirtualMachine] = []
    for attempt in range(8):
        try:
            answers.append(await stub.GetVirtualMachine(request))
        except grpc.aio.AioRpcError as error:
            assert attempt == 0 and error.code() == grpc.StatusCode.UNAVAILABLE
    assert len(answers) >= 7 and all(vm == before[0] for vm in before + answers)
    async with http.get(f"{harrow.endpoints.rest}/v1/{vm_name('web-1')}") as response:
        assert response.status == 200
        assert await response.json() == json_format.MessageToDict(before[0])
