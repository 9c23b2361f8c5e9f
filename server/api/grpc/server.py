"""The gRPC transport: servicers wrapped in `guard`, plus health and reflection (grpcurl works with no protos)."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status
from harrow.v1 import (
    backup_pb2_grpc,
    cluster_pb2_grpc,
    ip_pool_pb2_grpc,
    migration_pb2_grpc,
    operations_pb2_grpc,
    security_pb2_grpc,
    storage_pb2_grpc,
    virtual_machine_pb2_grpc,
)

from server.api.errors import internal_status, to_status
from server.domain.errors import HarrowError

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 4 * 1024 * 1024

_REGISTER: dict[str, Callable[[Any, grpc.aio.Server], None]] = {
    "harrow.v1.VirtualMachineService": virtual_machine_pb2_grpc.add_VirtualMachineServiceServicer_to_server,
    "harrow.v1.ClusterService": cluster_pb2_grpc.add_ClusterServiceServicer_to_server,
    "harrow.v1.OperationService": operations_pb2_grpc.add_OperationServiceServicer_to_server,
    "harrow.v1.IpPoolService": ip_pool_pb2_grpc.add_IpPoolServiceServicer_to_server,
    "harrow.v1.MigrationService": migration_pb2_grpc.add_MigrationServiceServicer_to_server,
    "harrow.v1.SecurityService": security_pb2_grpc.add_SecurityServiceServicer_to_server,
    "harrow.v1.StorageService": storage_pb2_grpc.add_StorageServiceServicer_to_server,
    "harrow.v1.BackupService": backup_pb2_grpc.add_BackupServiceServicer_to_server,
}


async def _abort(context: grpc.aio.ServicerContext[Any, Any], error: Exception) -> None:
    if isinstance(error, HarrowError):
        status = to_status(error)
    else:
        log.exception("unexpected error in a gRPC call")
        status = internal_status()
    await context.abort_with_status(rpc_status.to_status(status))


def _guard_method(method: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            try:
                async for item in method(request, context):
                    yield item
            except Exception as error:
                await _abort(context, error)

        return stream

    @functools.wraps(method)
    async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await method(request, context)
        except Exception as error:
            await _abort(context, error)

    return unary


UnaryBehaviour = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]
StreamBehaviour = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Any]]


class MethodInterceptor(Protocol):
    """Wraps each RPC method once, at registration: no per-call handler lookup or wrapper is built."""

    def unary(self, method: str, behaviour: UnaryBehaviour) -> UnaryBehaviour: ...

    def stream(self, method: str, behaviour: StreamBehaviour) -> StreamBehaviour: ...


class _Guarded:
    """The servicer's RPC methods with domain errors mapped to rich gRPC statuses, inside the interceptors
    (the first outermost), which therefore see the status the error became."""

    def __init__(self, service_name: str, servicer: object, interceptors: Sequence[MethodInterceptor]):
        for name in dir(servicer):
            if name[:1].isupper():
                implementation = getattr(servicer, name)
                method = _guard_method(implementation)
                streaming, full = inspect.isasyncgenfunction(implementation), f"{service_name}/{name}"
                for interceptor in reversed(interceptors):
                    method = interceptor.stream(full, method) if streaming else interceptor.unary(full, method)
                setattr(self, name, method)


async def build_grpc_server(
    servicers: Mapping[str, object],
    host: str,
    port: int,
    credentials: grpc.ServerCredentials | None = None,
    interceptors: Sequence[MethodInterceptor] = (),
) -> tuple[grpc.aio.Server, health.aio.HealthServicer, int]:
    """A server bound to host:port (0 picks a port), ready to start; with its health servicer and bound port.
    With `credentials` it serves TLS only. `interceptors` wrap every Harrow RPC (not health, reflection)."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    for service_name, servicer in servicers.items():
        _REGISTER[service_name](_Guarded(service_name, servicer, interceptors), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for service_name in (*servicers, ""):
        await health_servicer.set(service_name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection((*servicers, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{host}:{port}"
    bound = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    if bound == 0:
        raise OSError(f"cannot listen for gRPC on {host}:{port}")
    return server, health_servicer, bound
