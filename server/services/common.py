"""Pieces every resource service shares: clocks, etags, request fingerprints and operations."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from google.longrunning import operations_pb2
from google.protobuf import any_pb2, field_mask_pb2, json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from google.rpc import status_pb2
from harrow.v1 import common_pb2

from server.domain.errors import Aborted, InvalidArgument
from storage.models import OperationRow, ResourceColumns


def now() -> datetime:
    return datetime.now(UTC)


def make_etag(uid: uuid.UUID, generation: int) -> str:
    """A strong RFC 7232 etag that moves with every user-visible change of intent."""
    digest = hashlib.sha256(f"{uid}:{generation}".encode()).hexdigest()[:20]
    return f'"{digest}"'


def first_generation(uid: uuid.UUID, at: datetime) -> dict[str, Any]:
    """A new resource row's bookkeeping columns: generation 1, nothing observed or shown yet, live."""
    return {
        "uid": uid,
        "status": {},
        "conditions": [],
        "generation": 1,
        "observed_generation": 0,
        "etag": make_etag(uid, 1),
        "create_time": at,
        "update_time": at,
        "delete_time": None,
        "purged": False,
    }


def check_etag(sent: str, current: str, name: str, field: str = "etag") -> None:
    """AIP-154: an empty etag means "don't care"; a different one is ABORTED (HTTP 409)."""
    if sent and sent != current:
        raise Aborted(
            f"{name} has changed since etag {sent} was read (now {current}); read it again and retry",
            metadata={"resource": name, "current_etag": current, "field": field},
        )


def fingerprint(request: Message) -> str:
    """Identity of a request, ignoring request_id, for request_id reuse checks."""
    copy = type(request)()
    copy.CopyFrom(request)
    if "request_id" in copy.DESCRIPTOR.fields_by_name:
        copy.ClearField("request_id")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def check_request_id(request_id: str, field: str = "request_id") -> None:
    if not request_id:
        return
    try:
        uuid.UUID(request_id)
    except ValueError as error:
        raise InvalidArgument.for_field(field, f'must be a UUID (got "{request_id[:80]}")') from error


def pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def any_to_json(message: Message) -> dict[str, object]:
    """A message as proto3 JSON with its @type, so operations can store any response kind."""
    return json_format.MessageToDict(pack(message))


def operation_to_proto(row: OperationRow) -> operations_pb2.Operation:
    metadata = common_pb2.OperationMetadata(
        target=row.target,
        verb=row.verb,
        target_generation=row.target_generation,
        status_message=row.status_message,
        cancel_requested=row.cancel_requested,
        request_id=row.request_id or "",
    )
    metadata.create_time.FromDatetime(row.create_time)
    if row.end_time is not None:
        metadata.end_time.FromDatetime(row.end_time)
    operation = operations_pb2.Operation(name=f"operations/{row.id}", done=row.done)
    operation.metadata.Pack(metadata)
    if row.error is not None:
        json_format.ParseDict(row.error, operation.error)
    elif row.done and row.response is not None:
        json_format.ParseDict(row.response, operation.response)
    return operation


def new_operation(
    *, target: str, target_uid: uuid.UUID, verb: str, target_generation: int, request_id: str, at: datetime
) -> OperationRow:
    return OperationRow(
        id=uuid.uuid4(),
        target=target,
        target_uid=target_uid,
        verb=verb,
        target_generation=target_generation,
        done=False,
        error=None,
        response=None,
        status_message=f"waiting for the cluster to show generation {target_generation}",
        cancel_requested=False,
        request_id=request_id or None,
        create_time=at,
        update_time=at,
        end_time=None,
    )


def status_json(code: int, message: str) -> dict[str, object]:
    return json_format.MessageToDict(status_pb2.Status(code=code, message=message))


def fill_resource_fields(message: Message, row: ResourceColumns) -> None:
    """The standard fields every resource message has (DESIGN §4), from the columns every resource row has."""
    resource: Any = message  # each family's message type has these fields; Message itself does not declare them
    resource.name, resource.uid, resource.etag = row.name, str(row.uid), row.etag
    resource.generation, resource.observed_generation = row.generation, row.observed_generation
    resource.reconciling = row.observed_generation < row.generation
    resource.labels.update(row.labels)
    resource.annotations.update(row.annotations)
    resource.create_time.FromDatetime(row.create_time)
    resource.update_time.FromDatetime(row.update_time)
    if row.delete_time is not None and "delete_time" in message.DESCRIPTOR.fields_by_name:
        resource.delete_time.FromDatetime(row.delete_time)
    for condition in row.conditions:
        json_format.ParseDict(condition, resource.conditions.add())


def update_paths(mask: Sequence[str], resource: Message, writable: Sequence[str]) -> list[str]:
    """AIP-134: the mask's paths; `*` is everything writable; no mask is every populated writable field."""
    paths = list(mask)
    if not paths:
        return [field.name for field, _ in resource.ListFields() if field.name in writable]
    if "*" in paths:
        if len(paths) > 1:
            raise InvalidArgument.for_field("update_mask", '"*" cannot be combined with other paths')
        return list(writable)
    descriptor = cast(Descriptor, resource.DESCRIPTOR)
    type_name = descriptor.name
    for path in paths:
        top = path.split(".")[0]
        if top not in writable:
            why = "is output only" if top in descriptor.fields_by_name else f"is not a field of {type_name}"
            raise InvalidArgument.for_field("update_mask", f'"{path}" {why}; writable: {", ".join(writable)}')
        if not field_mask_pb2.FieldMask(paths=[path]).IsValidForDescriptor(descriptor):
            raise InvalidArgument.for_field("update_mask", f'"{path}" is not a field of {type_name}')
    return paths
