"""Errors every layer raises, grouped by what the caller should do about them.

They carry a canonical code name (the google.rpc.Code names), a stable
UPPER_SNAKE `reason` for ErrorInfo and, for bad input, the violated fields.
`server.api.errors` turns them into gRPC statuses and REST bodies; nothing
here knows about either transport.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: `field` is a dotted path in the request (`virtual_machine.spec.memory`)."""

    field: str
    description: str


@dataclass
class HarrowError(Exception):
    message: str
    reason: str = "INTERNAL"
    metadata: dict[str, str] = field(default_factory=dict)

    code = "INTERNAL"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


# The caller must change the request.
@dataclass
class InvalidArgument(HarrowError):
    reason: str = "INVALID_ARGUMENT"
    violations: list[FieldViolation] = field(default_factory=list)
    code = "INVALID_ARGUMENT"

    @classmethod
    def of(cls, violations: list[FieldViolation]) -> InvalidArgument:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        return cls(f"{first.field}: {first.description}{more}", violations=violations)

    @classmethod
    def for_field(cls, path: str, description: str) -> InvalidArgument:
        return cls.of([FieldViolation(path, description)])


@dataclass
class OutOfRange(HarrowError):
    reason: str = "OUT_OF_RANGE"
    code = "OUT_OF_RANGE"


@dataclass
class ResourceExhausted(HarrowError):
    reason: str = "RESOURCE_EXHAUSTED"
    # Set when waiting helps (a rate limit): sent as RetryInfo, and as Retry-After over REST.
    retry_after_seconds: float | None = None
    code = "RESOURCE_EXHAUSTED"


# The resource is not in the shape the caller assumed.
@dataclass
class NotFound(HarrowError):
    reason: str = "NOT_FOUND"
    code = "NOT_FOUND"


@dataclass
class AlreadyExists(HarrowError):
    reason: str = "ALREADY_EXISTS"
    code = "ALREADY_EXISTS"


@dataclass
class Aborted(HarrowError):
    """A concurrency conflict: the etag no longer matches, or another change won."""

    reason: str = "ETAG_MISMATCH"
    code = "ABORTED"


@dataclass
class FailedPrecondition(HarrowError):
    reason: str = "FAILED_PRECONDITION"
    code = "FAILED_PRECONDITION"


# Who is asking.
@dataclass
class Unauthenticated(HarrowError):
    reason: str = "UNAUTHENTICATED"
    code = "UNAUTHENTICATED"


@dataclass
class PermissionDenied(HarrowError):
    reason: str = "PERMISSION_DENIED"
    code = "PERMISSION_DENIED"


# Try again later.
@dataclass
class Unavailable(HarrowError):
    reason: str = "UNAVAILABLE"
    retry_after_seconds: float = 1.0
    code = "UNAVAILABLE"


@dataclass
class DeadlineExceeded(HarrowError):
    reason: str = "DEADLINE_EXCEEDED"
    code = "DEADLINE_EXCEEDED"


@dataclass
class Cancelled(HarrowError):
    reason: str = "CANCELLED"
    code = "CANCELLED"


@dataclass
class Internal(HarrowError):
    reason: str = "INTERNAL"
    code = "INTERNAL"
