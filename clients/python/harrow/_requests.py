"""Conversions generated methods apply to keyword arguments, so callers pass plain Python values.

Field masks are lists of paths, durations are seconds, and a mutation
without a ``request_id`` gets a fresh UUID: with it, the retry of a call
whose answer was lost returns the first answer instead of acting twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from google.protobuf import duration_pb2, field_mask_pb2


def field_mask(paths: Sequence[str] | None) -> field_mask_pb2.FieldMask | None:
    return None if paths is None else field_mask_pb2.FieldMask(paths=list(paths))


def duration(seconds: float | None) -> duration_pb2.Duration | None:
    if seconds is None:
        return None
    value = duration_pb2.Duration()
    value.FromNanoseconds(round(seconds * 1e9))
    return value


def new_request_id() -> str:
    return str(uuid.uuid4())
