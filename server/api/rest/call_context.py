"""The servicer context for a call that arrived over REST.

Servicers are written once against the grpc.aio context; this class gives
them the part of it they use (metadata, peer, deadline, abort), built from
the HTTP request, so a servicer cannot tell the transports apart. Aborts
become a `RestAbort` carrying exactly the google.rpc.Status a gRPC client
would have received, so both transports render the same error.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import NoReturn

import grpc
from aiohttp import web
from google.rpc import status_pb2

from server.auth.tls import peer_certificate_pem
from server.domain.errors import InvalidArgument

TIMEOUT_HEADER = "grpc-timeout"
_STATUS_DETAILS_KEY = "grpc-status-details-bin"
_TIMEOUT = re.compile(r"([0-9]{1,8})([HMSmun])")
_TIMEOUT_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}

Metadata = tuple[tuple[str, str], ...]


class RestAbort(Exception):
    """Raised by `abort`/`abort_with_status`; the transport renders `status`."""

    def __init__(self, status: status_pb2.Status) -> None:
        super().__init__(status.message)
        self.status = status


class RestCallContext:
    __slots__ = ("_metadata", "_request", "admitted", "deadline")

    def __init__(self, request: web.BaseRequest) -> None:
        self._request = request
        self._metadata: Metadata | None = None
        self.deadline = _deadline(request.headers.get(TIMEOUT_HEADER))
        # Set by the guard once the caller may make the call: a stream's headers wait for it, so an
        # authentication or authorization failure is always its HTTP status, never a line in a 200.
        self.admitted = asyncio.Event()

    def invocation_metadata(self) -> Metadata:
        if self._metadata is None:
            self._metadata = tuple((key.lower(), value) for key, value in self._request.headers.items())
        return self._metadata

    def auth_context(self) -> dict[str, list[bytes]]:
        """As gRPC's: the verified client certificate (PEM) under `x509_pem_cert` when TLS had one."""
        transport = self._request.transport
        pem = peer_certificate_pem(transport.get_extra_info("ssl_object") if transport is not None else None)
        return {"x509_pem_cert": [pem]} if pem is not None else {}

    def peer(self) -> str:
        transport = self._request.transport
        address = transport.get_extra_info("peername") if transport is not None else None
        if isinstance(address, tuple):
            host, port = address[0], address[1]
            return f"ipv6:[{host}]:{port}" if ":" in host else f"ipv4:{host}:{port}"
        if isinstance(address, str) and address:
            return f"unix:{address}"
        return "unknown"

    def time_remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - asyncio.get_running_loop().time())

    async def abort(
        self,
        code: grpc.StatusCode,
        details: str = "",
        trailing_metadata: Sequence[tuple[str, str | bytes]] = (),
    ) -> NoReturn:
        raise RestAbort(_status_from(code, details, trailing_metadata))

    async def abort_with_status(self, status: grpc.Status) -> NoReturn:
        raise RestAbort(_status_from(status.code, status.details, status.trailing_metadata))


def _status_from(
    code: grpc.StatusCode, details: str, trailing_metadata: Sequence[tuple[str, str | bytes]]
) -> status_pb2.Status:
    for key, value in trailing_metadata or ():
        if key == _STATUS_DETAILS_KEY and isinstance(value, bytes):
            return status_pb2.Status.FromString(value)
    number: int = code.value[0]
    return status_pb2.Status(code=number, message=details)


def _deadline(header: str | None) -> float | None:
    if header is None:
        return None
    found = _TIMEOUT.fullmatch(header.strip())
    if found is None:
        raise InvalidArgument(f"malformed {TIMEOUT_HEADER} header {header!r}: expected e.g. 500m or 30S")
    seconds = int(found.group(1)) * _TIMEOUT_UNITS[found.group(2)]
    return asyncio.get_running_loop().time() + seconds
