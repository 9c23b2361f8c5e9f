"""Domain errors → google.rpc.Status, gRPC status codes and REST bodies (AIP-193).

One mapping serves both transports: gRPC sends the Status as rich status
details, REST renders the same Status as `{"error": {...}}`, so a client sees
the same reason, message and field violations whichever way it came in.
"""

from __future__ import annotations

import math
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2, json_format
from google.rpc import code_pb2, error_details_pb2, status_pb2

from server.domain.errors import HarrowError, InvalidArgument, ResourceExhausted, Unavailable

ERROR_DOMAIN = "harrow.io"

# AIP-193 / google.rpc.Code → HTTP status.
HTTP_STATUS: dict[str, int] = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "UNAUTHENTICATED": 401,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
}


# gRPC carries the status in trailers, which clients cap at a few KiB (grpc's default is 8 KiB): an
# error about a huge input, or about thousands of bad entries, must not echo them back whole.
MAX_VIOLATIONS = 10
MAX_TEXT = 300


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_status(error: HarrowError) -> status_pb2.Status:
    """The google.rpc.Status for a domain error: ErrorInfo always, BadRequest and RetryInfo when they apply."""
    status = status_pb2.Status(code=code_pb2.Code.Value(error.code), message=_clip(error.message, 3 * MAX_TEXT))
    status.details.append(
        _pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata))
    )
    if isinstance(error, InvalidArgument) and error.violations:
        shown = error.violations[:MAX_VIOLATIONS]
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=_clip(v.field), description=_clip(v.description))
                for v in shown
            ]
        )
        if len(error.violations) > len(shown):
            rest = error.violations[len(shown)]
            bad_request.field_violations.add(
                field=_clip(rest.field), description=f"and {len(error.violations) - len(shown)} more not shown"
            )
        status.details.append(_pack(bad_request))
    retry_after = error.retry_after_seconds if isinstance(error, (Unavailable, ResourceExhausted)) else None
    if retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(math.ceil(round(retry_after * 1000, 6)))  # never shorter than asked
        status.details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status


def retry_after_seconds(status: status_pb2.Status) -> int | None:
    """The status's RetryInfo delay in whole seconds, rounded up (an HTTP Retry-After value); None without one."""
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            nanoseconds: int = info.retry_delay.ToNanoseconds()
            return math.ceil(nanoseconds / 1e9)
    return None


def internal_status(message: str = "internal error") -> status_pb2.Status:
    """The Status for an unexpected exception; its text never reaches the client."""
    return to_status(HarrowError(message))


def grpc_code(status: status_pb2.Status) -> grpc.StatusCode:
    name = code_pb2.Code.Name(status.code)
    return grpc.StatusCode[name]


def http_status(status: status_pb2.Status) -> int:
    return HTTP_STATUS.get(code_pb2.Code.Name(status.code), 500)


def rest_error_body(status: status_pb2.Status) -> dict[str, Any]:
    """`{"error": {"code", "message", "status", "details"}}`, details in proto3 JSON with `@type`."""
    return {
        "error": {
            "code": http_status(status),
            "message": status.message,
            "status": code_pb2.Code.Name(status.code),
            "details": [json_format.MessageToDict(detail) for detail in status.details],
        }
    }
