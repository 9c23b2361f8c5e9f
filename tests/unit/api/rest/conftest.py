"""A real aiohttp server on 127.0.0.1 serving a small VirtualMachineService servicer over REST.

The transcoder is generic, so a servicer that records what it was called
with and fails on demand is enough to pin down the REST behaviour; the real
services are tested end to end elsewhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import grpc
import pytest_asyncio
from aiohttp import web
from google.longrunning import operations_pb2
from google.protobuf.message import Message
from grpc_status import rpc_status
from harrow.v1 import common_pb2
from harrow.v1 import virtual_machine_pb2 as vm
from harrow.v1 import virtual_machine_pb2_grpc as vm_grpc

from server.api.errors import to_status
from server.api.rest import build_rest_app
from server.domain.errors import Aborted, FailedPrecondition, NotFound, OutOfRange

MAX_BODY = 64 * 1024
VM_NAME = "clusters/local/namespaces/default/virtualMachines/vm1"
PARENT = "clusters/local/namespaces/default"


class RecordingServicer(vm_grpc.VirtualMachineServiceServicer):
    def __init__(self) -> None:
        self.requests: dict[str, Message] = {}
        self.contexts: dict[str, dict[str, Any]] = {}
        self.watch_closed = asyncio.Event()

    def _record(self, method: str, request: Message, context: Any) -> None:
        self.requests[method] = request
        self.contexts[method] = {
            "metadata": dict(context.invocation_metadata()),
            "peer": context.peer(),
            "time_remaining": context.time_remaining(),
        }

    async def GetVirtualMachine(self, request: vm.GetVirtualMachineRequest, context: Any) -> vm.VirtualMachine:
        self._record("Get", request, context)
        vm_id = request.name.rsplit("/", 1)[-1]
        if vm_id == "missing":
            raise NotFound(f"{request.name} not found")
        if vm_id == "boom":
            raise RuntimeError("secret internal detail")
        if vm_id == "abort":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")
        if vm_id == "abort-status":
            status = to_status(FailedPrecondition("vm is running", reason="VM_RUNNING"))
            await context.abort_with_status(rpc_status.to_status(status))
        return vm.VirtualMachine(
            name=request.name,
            labels={"team": "db"},
            generation=7,
            state=vm.VirtualMachine.RUNNING,
            spec=vm.VirtualMachineSpec(memory="4Gi", run_strategy=vm.VirtualMachineSpec.ALWAYS),
        )

    async def ListVirtualMachines(
        self, request: vm.ListVirtualMachinesRequest, context: Any
    ) -> vm.ListVirtualMachinesResponse:
        self._record("List", request, context)
        return vm.ListVirtualMachinesResponse(next_page_token="next")

    async def CreateVirtualMachine(
        self, request: vm.CreateVirtualMachineRequest, context: Any
    ) -> operations_pb2.Operation:
        self._record("Create", request, context)
        return operations_pb2.Operation(name="operations/create-1")

    async def UpdateVirtualMachine(
        self, request: vm.UpdateVirtualMachineRequest, context: Any
    ) -> operations_pb2.Operation:
        self._record("Update", request, context)
        return operations_pb2.Operation(name="operations/update-1", done=True)

    async def DeleteVirtualMachine(
        self, request: vm.DeleteVirtualMachineRequest, context: Any
    ) -> operations_pb2.Operation:
        self._record("Delete", request, context)
        return operations_pb2.Operation(name="operations/delete-1")

    async def StartVirtualMachine(
        self, request: vm.StartVirtualMachineRequest, context: Any
    ) -> operations_pb2.Operation:
        self._record("Start", request, context)
        return operations_pb2.Operation(name="operations/start-1")

    async def StopVirtualMachine(self, request: vm.StopVirtualMachineRequest, context: Any) -> operations_pb2.Operation:
        self._record("Stop", request, context)
        await asyncio.sleep(2)
        return operations_pb2.Operation(name="operations/stop-1")

    async def WatchVirtualMachines(
        self, request: vm.WatchVirtualMachinesRequest, context: Any
    ) -> AsyncIterator[vm.WatchVirtualMachinesResponse]:
        self._record("Watch", request, context)
        namespace = request.parent.rsplit("/", 1)[-1]
        if namespace == "too-old":
            raise OutOfRange(f"revision {request.since_revision} is too old")
        try:
            for revision in range(request.since_revision + 1, request.since_revision + 4):
                yield vm.WatchVirtualMachinesResponse(
                    type=common_pb2.MODIFIED,
                    revision=revision,
                    virtual_machine=vm.VirtualMachine(name=f"{request.parent}/virtualMachines/vm{revision}"),
                )
                if namespace == "slow":
                    await asyncio.sleep(0.3)
            if namespace == "fails-late":
                raise Aborted("the watch was interrupted", reason="WATCH_INTERRUPTED")
            if namespace == "forever":
                await asyncio.Event().wait()
        finally:
            if namespace == "forever":
                self.watch_closed.set()


@dataclass
class RestServer:
    url: str
    servicer: RecordingServicer
    session: aiohttp.ClientSession
    runner: web.AppRunner = field(repr=False)

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def rest() -> AsyncIterator[RestServer]:
    servicer = RecordingServicer()
    app = build_rest_app({"harrow.v1.VirtualMachineService": servicer}, max_body_bytes=MAX_BODY)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        yield RestServer(f"http://127.0.0.1:{port}", servicer, session, runner)
    await runner.cleanup()
