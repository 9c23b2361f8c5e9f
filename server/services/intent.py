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
from sqlalchemy import Select, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import audit
from server.domain.errors import InvalidArgument, NotFound
from server.services import common, proto_json
from storage.db import Database
from storage.models import AuditRecordRow, ClusterRow, OperationRow, ResourceColumns
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
        # The audit row rides on one of the work's own statements where it can (server/auth/audit.py).
        audit.defer(session)
        at = common.now()
        if request_id and not dry_run:
            fingerprint = common.fingerprint(request)
            prior = await idempotency.claim(session, request_id, method, fingerprint, at)
            if prior is not None:
                if (prior.method, prior.fingerprint) != (method, fingerprint):
                    raise InvalidArgument.for_field(
                        "request_id", f"{request_id} was already used for a different request ({prior.method})"
                    )
                await audit.write_deferred(session)
                return await _replay(session, response_type, prior.response or b"")
        response = await work(session, at)
        if request_id and not dry_run:
            await idempotency.store(session, request_id, response.SerializeToString())
        await audit.write_deferred(session)
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
            resource=proto_json.message_to_dict(self.to_proto(row)),
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
        """The operation that is done once the cluster shows the row's current generation (and the audit row)."""
        operation = self.new_operation(row, verb, request_id, at)
        await resources.insert_new(session, operation, *audit_rows(session))
        return common.operation_to_proto(operation)

    def new_operation(self, row: Row, verb: str, request_id: str, at: datetime) -> OperationRow:
        """`operation`'s row, for a writer that inserts it together with its resource row."""
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
        return operation


def audit_rows(session: AsyncSession) -> list[AuditRecordRow]:
    """The audit row `idempotent` deferred, for an insert to carry (none when already written or not owed)."""
    values = audit.take(session)
    return [] if values is None else [AuditRecordRow(**values)]


def done_operation(response: Message) -> operations_pb2.Operation:
    """An operation with nothing left to wait for: allow_missing no-ops and validate_only previews (unnamed)."""
    operation = operations_pb2.Operation(done=True)
    operation.response.Pack(response)
    return operation


async def require_cluster(session: AsyncSession, cluster: str) -> None:
    query = select(ClusterRow.uid).where(ClusterRow.name == f"clusters/{cluster}", ClusterRow.purged.is_(False))
    if (await session.execute(query)).first() is None:
        raise cluster_not_found(cluster)


async def name_taken(session: AsyncSession, cluster: str, model: type[ResourceColumns], name: str) -> bool:
    """`require_cluster`, and whether a live `model` row is called `name`: one round trip for a create's checks."""
    found = (
        await session.execute(_name_taken_query(model), {"cluster_name": f"clusters/{cluster}", "name": name})
    ).one()
    if not found[0]:
        raise cluster_not_found(cluster)
    return bool(found[1])


# Whether the cluster named by the `cluster_name` parameter is live; built once, like the statements using it.
CLUSTER_LIVE = exists(
    select(ClusterRow.uid).where(ClusterRow.name == bindparam("cluster_name"), ClusterRow.purged.is_(False))
)
# Built once per table: a reused statement keeps its cache key, so a create skips rebuilding and rehashing it.
_NAME_TAKEN: dict[type[ResourceColumns], Select[bool, bool]] = {}


def _name_taken_query(model: type[ResourceColumns]) -> Select[bool, bool]:
    query = _NAME_TAKEN.get(model)
    if query is None:
        taken = select(model.uid).where(model.name == bindparam("name"), model.purged.is_(False))
        query = _NAME_TAKEN[model] = select(CLUSTER_LIVE, taken.exists())
    return query


def cluster_not_found(cluster: str) -> NotFound:
    return NotFound(
        f"cluster clusters/{cluster} does not exist",
        reason="CLUSTER_NOT_FOUND",
        metadata={"cluster": f"clusters/{cluster}"},
    )
