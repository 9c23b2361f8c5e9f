"""Harrow's Python SDK: `Client` (asyncio) and `SyncClient`, one typed method per RPC of the contract.

The generated protobuf stubs live in `harrow.v1` and are the messages these
methods take and return. Everything else here is re-exported from private
modules; this list is the public surface (guarded by tests/sdk/test_exports.py).
"""

from harrow._client import Client, SyncClient
from harrow._config import RetryConfig, TlsConfig
from harrow._errors import (
    Aborted,
    AlreadyExists,
    Cancelled,
    DataLoss,
    DeadlineExceeded,
    EtagMismatch,
    FailedPrecondition,
    FieldViolation,
    HarrowError,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    Unknown,
)
from harrow._operation import Operation, SyncOperation
from harrow._pager import AsyncPager
from harrow._version import __version__
from harrow._watch import WatchStream

__all__ = [
    "Aborted",
    "AlreadyExists",
    "AsyncPager",
    "Cancelled",
    "Client",
    "DataLoss",
    "DeadlineExceeded",
    "EtagMismatch",
    "FailedPrecondition",
    "FieldViolation",
    "HarrowError",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "Operation",
    "OutOfRange",
    "PermissionDenied",
    "ResourceExhausted",
    "RetryConfig",
    "SyncClient",
    "SyncOperation",
    "TlsConfig",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "Unknown",
    "WatchStream",
    "__version__",
]
