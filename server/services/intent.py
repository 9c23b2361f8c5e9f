"""How every resource family writes intent (DESIGN §2): one transaction holding
the resource row (generation + 1, new etag), an operation row, a change row
for Watch, and the request_id's first answer.

Families differ in validation and in how a row becomes a proto; the shape of
the transaction is the same, so it lives here once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from google.longrunning import operations_pb2
from google.protobuf import json_format
from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import audit
from server.domain.errors import InvalidArgument, NotFound
from server.services import common
from storage.db import Database
from storage.models import ClusterRow, OperationRow, ResourceColumns
from storage.repos import changes, idempotency, resources

Row = TypeVar("Row", bound=ResourceColumns)
Response = TypeVar("Response", bound=Message)
Work = Callable[[AsyncSession, datetime], Awaitable[Response]]


async def idempotent(
    db: Database,
    method: str,
    request: Message,
    response_type: type[Response],
    work: Work[Response],
    *,
    dry_run: bool = False,
) -> Response:
    """Run `work` in one transaction; a repeated request_id gets the first answer and no second effect."""
    request_id: str = getattr(request, "request_id", "")
    common.check_request_id(request_id)
    async with db.transaction() as session:
        audit.record(session)
        at = common.now()
        if request_id and not dry_run:
            fingerprint = common.fingerprint(request)
            prior = await idempotency.claim(session, request_id, method, fingerprint, at)
            if prior is not None:
                if (prior.method, prior.fingerprint) != (method, fingerprint):
                    raise InvalidArgument.for_field(
                        "request_id", f"{request_id} was already used for a different request ({prior.method})"
                    )
                return await _replay(session, response_type, prior.response or b"")
        response = await work(session, at)
        if request_id and not dry_run:
            await idempotency.store(session, request_id, response.SerializeToString())
        return response


async def _replay(session: AsyncSession, response_type: type[Response], stored: bytes) -> Response:
    """The first answer; an operation is refreshed, since it may have finished since."""
    response = response_type.FromString(stored)
    if isinstance(response, operations_pb2.Operation) and response.name:
        row = await session.get(OperationRow, uuid.UUID(response.name.removeprefix("operations/")))
        if row is not None:
            response.CopyFrom(common.operation_to_proto(row))
    return response


@dataclass(frozen=True)
class Kind(Generic[Row]):
    """A resource family as the change log and operations see it."""

    name: str
    to_proto: Callable[[Row], Message]
    parent_of: Callable[[Row], str]

    async def record(self, session: AsyncSession, row: Row, event: str, at: datetime) -> None:
        """Append the change for Watch, in the writer's transaction (numbered once committed: repos/changes.py)."""
        await changes.append_many(session, [self.change(row, event, at)])

    def change(self, row: Row, event: str, at: datetime) -> dict[str, Any]:
        """The change row for `row` as it is now, for `changes.append_many` (a batch in one statement)."""
        return changes.change(
            kind=self.name,
            parent=self.parent_of(row),
            name=row.name,
            uid=row.uid,
            event_type=event,
            resource=json_format.MessageToDict(self.to_proto(row)),
            now=at,
        )

    async def bump(self, session: AsyncSession, row: Row, event: str, at: datetime) -> None:
        """A new generation of intent: new etag, and a change for Watch."""
        row.generation += 1
        row.etag = common.make_etag(row.uid, row.generation)
        row.update_time = at
        await self.record(session, row, event, at)

    async def set_intent(self, session: AsyncSession, row: Row, merged: Message, at: datetime) -> None:
        """Store an update's merged spec, labels and annotations; a new generation only when they changed."""
        resource: Any = merged  # every resource message has spec, labels and annotations
        spec = json_format.MessageToDict(resource.spec, preserving_proto_field_name=True)
        labels, annotations = dict(resource.labels), dict(resource.annotations)
        if (spec, labels, annotations) != (row.spec, row.labels, row.annotations):
            row.spec, row.labels, row.annotations = spec, labels, annotations
            await self.bump(session, row, "MODIFIED", at)

    async def operation(
        self, session: AsyncSession, row: Row, verb: str, request_id: str, at: datetime
    ) -> operations_pb2.Operation:
        """The operation that is done once the cluster shows the row's current generation."""
        operation = common.new_operation(
            target=row.name,
            target_uid=row.uid,
            verb=verb,
            target_generation=row.generation,
            request_id=request_id,
            at=at,
        )
        if row.observed_generation >= row.generation:
            operation.done = True
            operation.end_time = at
            operation.status_message = "the cluster already shows this"
            operation.response = common.any_to_json(self.to_proto(row))
        await resources.insert_new(session, operation)
        return common.operation_to_proto(operation)


def done_operation(response: Message) -> operations_pb2.Operation:
    """An operation with nothing left to wait for: allow_missing no-ops and validate_only previews (unnamed)."""
    operation = operations_pb2.Operation(done=True)
    operation.response.Pack(response)
    return operation


async def require_cluster(session: AsyncSession, cluster: str) -> None:
    query = select(ClusterRow.uid).where(ClusterRow.name == f"clusters/{cluster}", ClusterRow.purged.is_(False))
    if (await session.execute(query)).first() is None:
        raise _cluster_not_found(cluster)


async def name_taken(session: AsyncSession, cluster: str, model: type[ResourceColumns], name: str) -> bool:
    """`require_cluster`, and whether a live `model` row is called `name`: one round trip for a create's checks."""
    cluster_live = select(ClusterRow.uid).where(ClusterRow.name == f"clusters/{cluster}", ClusterRow.purged.is_(False))
    taken = select(model.uid).where(model.name == name, model.purged.is_(False))
    has_cluster, exists = (await session.execute(select(cluster_live.exists(), taken.exists()))).one()
    if not has_cluster:
        raise _cluster_not_found(cluster)
    return bool(exists)


def _cluster_not_found(cluster: str) -> NotFound:
    return NotFound(
        f"cluster clusters/{cluster} does not exist",
        reason="CLUSTER_NOT_FOUND",
        metadata={"cluster": f"clusters/{cluster}"},
    )
