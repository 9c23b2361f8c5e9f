"""The same call over gRPC or over REST, for tests that must hold on both transports.

The REST side builds requests from the contract's google.api.http rules the
way any generated REST client would (path template, body, query string);
tests that pin exact URLs and JSON live in test_rest_*.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import grpc
from google.api import annotations_pb2
from google.protobuf import descriptor_pool, json_format, symbol_database
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
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

_STUBS = {
    "VirtualMachineService": virtual_machine_pb2_grpc.VirtualMachineServiceStub,
    "ClusterService": cluster_pb2_grpc.ClusterServiceStub,
    "OperationService": operations_pb2_grpc.OperationServiceStub,
    "IpPoolService": ip_pool_pb2_grpc.IpPoolServiceStub,
    "MigrationService": migration_pb2_grpc.MigrationServiceStub,
    "SecurityService": security_pb2_grpc.SecurityServiceStub,
    "StorageService": storage_pb2_grpc.StorageServiceStub,
    "BackupService": backup_pb2_grpc.BackupServiceStub,
}


@dataclass
class ApiError(Exception):
    code: str
    message: str
    reason: str = ""
    violations: dict[str, str] = field(default_factory=dict)
    http_status: int = 0
    metadata: dict[str, str] = field(default_factory=dict)


def _from_status(status: status_pb2.Status, http_status: int = 0) -> ApiError:
    error = ApiError(code=code_pb2.Code.Name(status.code), message=status.message, http_status=http_status)
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            error.reason, error.metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            error.violations = {v.field: v.description for v in bad.field_violations}
    return error


def _method(service: str, method: str) -> Any:
    return descriptor_pool.Default().FindServiceByName(f"harrow.v1.{service}").methods_by_name[method]


class GrpcApi:
    transport = "grpc"

    def __init__(self, channel: grpc.aio.Channel):
        self._stubs = {name: stub(channel) for name, stub in _STUBS.items()}

    async def call(self, service: str, method: str, request: Message) -> Any:
        try:
            return await getattr(self._stubs[service], method)(request)
        except grpc.aio.AioRpcError as call_error:
            status = rpc_status.from_call(call_error)
            if status is None:
                raise ApiError(call_error.code().name, call_error.details() or "") from call_error
            raise _from_status(status) from call_error

    async def stream(self, service: str, method: str, request: Message) -> AsyncIterator[Any]:
        call = getattr(self._stubs[service], method)(request)
        try:
            async for item in call:
                yield item
        except grpc.aio.AioRpcError as call_error:
            status = rpc_status.from_call(call_error)
            raise (_from_status(status) if status else ApiError(call_error.code().name, "")) from call_error
        finally:
            call.cancel()


_VARIABLE = re.compile(r"\{([^}=]+)(?:=[^}]*)?\}")


def _get_path(message: Message, path: str) -> Any:
    value: Any = message
    for part in path.split("."):
        value = getattr(value, part)
    return value


class RestApi:
    transport = "rest"

    def __init__(self, session: aiohttp.ClientSession, base: str):
        self._session = session
        self._base = base

    def _request(self, service: str, method: str, request: Message) -> tuple[str, str, dict[str, str], Any]:
        rule = _method(service, method).GetOptions().Extensions[annotations_pb2.http]
        verb = rule.WhichOneof("pattern")
        template = getattr(rule, verb)
        body = json_format.MessageToDict(request, preserving_proto_field_name=True)
        path_fields = _VARIABLE.findall(template)
        url = _VARIABLE.sub(lambda m: str(_get_path(request, m.group(1))), template)
        for path_field in path_fields:
            top, _, rest = path_field.partition(".")
            if rest:
                body.get(top, {}).pop(rest, None)
            else:
                body.pop(top, None)
        payload: Any = None
        if rule.body == "*":
            payload = body
            body = {}
        elif rule.body:
            payload = body.pop(rule.body, {})
        query = {key: _query_value(value) for key, value in body.items()}
        return verb.upper(), self._base + url, query, payload

    async def call(self, service: str, method: str, request: Message) -> Any:
        verb, url, query, payload = self._request(service, method, request)
        async with self._session.request(verb, url, params=query, json=payload) as response:
            text = await response.text()
        return self._parse(service, method, response.status, text)

    def _parse(self, service: str, method: str, http_status: int, text: str) -> Any:
        document = json.loads(text) if text else {}
        # An Operation has an `error` field of its own; an error body is told apart by its `status` name.
        if http_status >= 400 or "status" in document.get("error", {}):
            status = status_pb2.Status()
            error = document["error"]
            json_format.ParseDict(
                {
                    "code": code_pb2.Code.Value(error["status"]),
                    "message": error["message"],
                    "details": error.get("details", []),
                },
                status,
            )
            raise _from_status(status, http_status)
        output = symbol_database.Default().GetSymbol(_method(service, method).output_type.full_name)()
        json_format.ParseDict(document, output)
        return output

    async def stream(self, service: str, method: str, request: Message) -> AsyncIterator[Any]:
        verb, url, query, payload = self._request(service, method, request)
        async with self._session.request(verb, url, params=query, json=payload) as response:
            if response.status >= 400:
                self._parse(service, method, response.status, await response.text())
            async for line in response.content:
                if line.strip():
                    yield self._parse(service, method, 200, line.decode())


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) and "paths" in value:
        return ",".join(value["paths"])
    return str(value)
