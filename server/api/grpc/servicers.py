"""gRPC servicers: proto in, service call, proto out. Nothing else.

They raise domain errors; `guard` (below, applied when registering with the
gRPC server) turns those into rich statuses, while the REST transcoder calls
the same methods directly and renders the same errors as JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from google.longrunning import operations_pb2
from google.protobuf import empty_pb2
from harrow.v1 import cluster_pb2, cluster_pb2_grpc, operations_pb2_grpc, virtual_machine_pb2_grpc
from harrow.v1 import virtual_machine_pb2 as vm_pb

from server.services.clusters import ClusterService
from server.services.operations import OperationService
from server.services.virtual_machines import VirtualMachineService

Context = object


class VirtualMachineServicer(virtual_machine_pb2_grpc.VirtualMachineServiceServicer):
    def __init__(self, service: VirtualMachineService):
        self._service = service

    async def GetVirtualMachine(
        self, request: vm_pb.GetVirtualMachineRequest, context: Context
    ) -> vm_pb.VirtualMachine:
        return await self._service.get(request)

    async def ListVirtualMachines(
        self, request: vm_pb.ListVirtualMachinesRequest, context: Context
    ) -> vm_pb.ListVirtualMachinesResponse:
        return await self._service.list(request)

    async def CreateVirtualMachine(
        self, request: vm_pb.CreateVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.create(request)

    async def UpdateVirtualMachine(
        self, request: vm_pb.UpdateVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.update(request)

    async def DeleteVirtualMachine(
        self, request: vm_pb.DeleteVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.delete(request)

    async def StartVirtualMachine(
        self, request: vm_pb.StartVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.act("START", request)

    async def StopVirtualMachine(
        self, request: vm_pb.StopVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.act("STOP", request)

    async def RestartVirtualMachine(
        self, request: vm_pb.RestartVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.act("RESTART", request)

    async def PauseVirtualMachine(
        self, request: vm_pb.PauseVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.act("PAUSE", request)

    async def UnpauseVirtualMachine(
        self, request: vm_pb.UnpauseVirtualMachineRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.act("UNPAUSE", request)

    async def WatchVirtualMachines(
        self, request: vm_pb.WatchVirtualMachinesRequest, context: Context
    ) -> AsyncIterator[vm_pb.WatchVirtualMachinesResponse]:
        async for event in self._service.watch(request):
            yield event


class ClusterServicer(cluster_pb2_grpc.ClusterServiceServicer):
    def __init__(self, service: ClusterService):
        self._service = service

    async def GetCluster(self, request: cluster_pb2.GetClusterRequest, context: Context) -> cluster_pb2.Cluster:
        return await self._service.get(request)

    async def ListClusters(
        self, request: cluster_pb2.ListClustersRequest, context: Context
    ) -> cluster_pb2.ListClustersResponse:
        return await self._service.list(request)


class OperationServicer(operations_pb2_grpc.OperationServiceServicer):
    def __init__(self, service: OperationService):
        self._service = service

    async def GetOperation(
        self, request: operations_pb2.GetOperationRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.get(request)

    async def ListOperations(
        self, request: operations_pb2.ListOperationsRequest, context: Context
    ) -> operations_pb2.ListOperationsResponse:
        return await self._service.list(request)

    async def WaitOperation(
        self, request: operations_pb2.WaitOperationRequest, context: Context
    ) -> operations_pb2.Operation:
        return await self._service.wait(request)

    async def CancelOperation(
        self, request: operations_pb2.CancelOperationRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._service.cancel(request)
        return empty_pb2.Empty()
