"""One exception hierarchy for every failure a Harrow call can report.

The server answers with a `google.rpc.Status` (gRPC trailer
`grpc-status-details-bin`, or an Operation's `error`); this module turns it
into the exception a caller catches. The class follows the canonical code,
so `except harrow.NotFound` works whatever resource family raised it, and
`reason` (ErrorInfo.reason, stable UPPER_SNAKE) tells cases of one code
apart. Classes are chosen by code alone except `EtagMismatch`, the ABORTED
case callers handle by reading again, so it gets its own class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import grpc
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2

ERROR_DOMAIN = "harrow.io"
_STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request, as a dotted path (`virtual_machine.spec.disks[1].name`)."""

    field: str
    description: str


class HarrowError(Exception):
    """Base of every error the SDK raises for a failed call or a failed operation."""

    code: str = "UNKNOWN"
    """The google.rpc.Code name, e.g. ``NOT_FOUND``."""

    def __init__(
        self,
        message: str,
        *,
        reason: str = "",
        metadata: Mapping[str, str] | None = None,
        field_violations: Sequence[FieldViolation] = (),
        retry_delay: float | None = None,
        status: status_pb2.Status | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        """ErrorInfo.reason: a stable UPPER_SNAKE name of the case (``VIRTUAL_MACHINE_NOT_FOUND``)."""
        self.metadata: dict[str, str] = dict(metadata or {})
        """ErrorInfo.metadata, e.g. ``{"resource": "clusters/local/…"}``."""
        self.field_violations: tuple[FieldViolation, ...] = tuple(field_violations)
        """BadRequest field violations (set on InvalidArgument)."""
        self.retry_delay = retry_delay
        """RetryInfo.retry_delay in seconds, when the server said when to come back."""
        self.status = status
        """The whole google.rpc.Status, for details this class does not unpack."""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" + (f" [{self.reason}]" if self.reason else "")


class Cancelled(HarrowError):
    code = "CANCELLED"


class Unknown(HarrowError):
    code = "UNKNOWN"


class InvalidArgument(HarrowError):
    code = "INVALID_ARGUMENT"


class DeadlineExceeded(HarrowError, TimeoutError):
    code = "DEADLINE_EXCEEDED"


class NotFound(HarrowError):
    code = "NOT_FOUND"


class AlreadyExists(HarrowError):
    code = "ALREADY_EXISTS"


class PermissionDenied(HarrowError):
    code = "PERMISSION_DENIED"


class ResourceExhausted(HarrowError):
    code = "RESOURCE_EXHAUSTED"


class FailedPrecondition(HarrowError):
    code = "FAILED_PRECONDITION"


class Aborted(HarrowError):
    code = "ABORTED"


class EtagMismatch(Aborted):
    """The resource changed since its etag was read: read it again, reapply the change, retry."""


class OutOfRange(HarrowError):
    code = "OUT_OF_RANGE"


class Unimplemented(HarrowError):
    code = "UNIMPLEMENTED"


class Internal(HarrowError):
    code = "INTERNAL"


class Unavailable(HarrowError):
    code = "UNAVAILABLE"


class DataLoss(HarrowError):
    code = "DATA_LOSS"


class Unauthenticated(HarrowError):
    code = "UNAUTHENTICATED"


_BY_CODE: dict[str, type[HarrowError]] = {
    cls.code: cls
    for cls in (
        Cancelled,
        Unknown,
        InvalidArgument,
        DeadlineExceeded,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        ResourceExhausted,
        FailedPrecondition,
        Aborted,
        OutOfRange,
        Unimplemented,
        Internal,
        Unavailable,
        DataLoss,
        Unauthenticated,
    )
}


def error_from_status(status: status_pb2.Status) -> HarrowError:
    """The exception for a google.rpc.Status, with ErrorInfo, BadRequest and RetryInfo unpacked."""
    reason, metadata, violations, retry_delay = "", {}, [], None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations = [FieldViolation(v.field, v.description) for v in bad.field_violations]
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_delay = retry.retry_delay.ToTimedelta().total_seconds()
    code = code_pb2.Code.Name(status.code) if status.code in code_pb2.Code.values() else "UNKNOWN"
    cls = EtagMismatch if code == "ABORTED" and reason == "ETAG_MISMATCH" else _BY_CODE.get(code, Unknown)
    return cls(
        status.message,
        reason=reason,
        metadata=metadata,
        field_violations=violations,
        retry_delay=retry_delay,
        status=status,
    )


def error_from_rpc(error: grpc.aio.AioRpcError) -> HarrowError:
    """The exception for a failed gRPC call: its rich status when the server sent one, else its code."""
    for key, value in error.trailing_metadata() or ():
        if key == _STATUS_DETAILS_KEY and isinstance(value, bytes):
            status = status_pb2.Status()
            try:
                status.ParseFromString(value)
            except DecodeError:
                break
            return error_from_status(status)
    code = error.code()
    status = status_pb2.Status(code=code.value[0], message=error.details() or code.name)
    return error_from_status(status)
