"""Response bodies: proto3 JSON for messages, AIP-193 bodies for every failure.

Every error the REST transport produces, whether raised by a servicer, by an
abort, by request mapping or by routing, goes through `error_status`, so the
body always has the `{"error": {"code", "message", "status", "details"}}`
shape. The few errors only HTTP has (wrong method, body too large) are
HarrowErrors with a fixed HTTP status that overrides the code's usual one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from google.protobuf.message import Message
from google.rpc import status_pb2

from server.api.errors import http_status, internal_status, rest_error_body, retry_after_seconds, to_status
from server.api.rest.call_context import RestAbort
from server.domain.errors import HarrowError, NotFound, ResourceExhausted
from server.services import proto_json

JSON_TYPE = "application/json"
NDJSON_TYPE = "application/x-ndjson"

logger = logging.getLogger(__name__)


@dataclass
class Unimplemented(HarrowError):
    reason: str = "UNIMPLEMENTED"
    code = "UNIMPLEMENTED"


@dataclass
class MethodNotAllowed(Unimplemented):
    reason: str = "METHOD_NOT_ALLOWED"


@dataclass
class RequestTooLarge(ResourceExhausted):
    reason: str = "REQUEST_TOO_LARGE"


@dataclass
class UnknownPath(NotFound):
    reason: str = "UNKNOWN_PATH"


_HTTP_OVERRIDES: dict[type[BaseException], int] = {MethodNotAllowed: 405, RequestTooLarge: 413}


def message_json(message: Message) -> bytes:
    return json.dumps(proto_json.message_to_dict(message), separators=(",", ":")).encode()


def message_response(message: Message) -> web.Response:
    return web.Response(body=message_json(message), content_type=JSON_TYPE)


def _status(error: BaseException, method: str) -> status_pb2.Status:
    if isinstance(error, HarrowError):
        return to_status(error)
    if isinstance(error, RestAbort):
        return error.status
    logger.error("unhandled error in %s", method, exc_info=error)
    return internal_status()


def _http_error(error: BaseException, status: status_pb2.Status) -> tuple[int, dict[str, Any]]:
    body = rest_error_body(status)
    code = _HTTP_OVERRIDES.get(type(error)) or http_status(status)
    body["error"]["code"] = code
    return code, body


def error_body(error: BaseException, method: str) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body for any exception; unexpected ones are logged, never echoed."""
    return _http_error(error, _status(error, method))


def error_response(error: BaseException, method: str, headers: dict[str, str] | None = None) -> web.Response:
    """The error as a response; a status with RetryInfo (429, 503) also says when to come back in Retry-After."""
    status = _status(error, method)
    code, body = _http_error(error, status)
    retry_after = retry_after_seconds(status)
    if retry_after is not None:
        headers = {**(headers or {}), "Retry-After": str(retry_after)}
    return web.Response(
        status=code,
        body=json.dumps(body, separators=(",", ":")).encode(),
        content_type=JSON_TYPE,
        headers=headers,
    )
