"""Operations (AIP-151): the record of every mutation that waits for a cluster.

The reconciler finishes them; this service reads, waits on and cancels
them. Cancelling ends the operation with CANCELLED but keeps the recorded
intent: to undo it, update or delete the resource.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime

from google.longrunning import operations_pb2
from google.rpc import code_pb2
from sqlalchemy import false, or_, select, tuple_

from server.auth import audit
from server.domain import page_token
from server.domain.errors import InvalidArgument, NotFound
from server.domain.filtering import FieldKind, check_fields, parse_filter
from server.domain.names import parse_operation_name
from server.services import common
from storage.db import Database
from storage.filters import Column, to_sql
from storage.models import OperationRow

MAX_WAIT_SECONDS = 60.0
DEFAULT_WAIT_SECONDS = 10.0
FILTER_FIELDS = {"done": FieldKind.enum(("true", "false")), "target": FieldKind.string(), "verb": FieldKind.string()}
_FILTER_COLUMNS = {
    "done": Column(OperationRow.done, cast_text=True),
    "target": Column(OperationRow.target),
    "verb": Column(OperationRow.verb),
}


def _operation_id(name: str) -> uuid.UUID:
    operation = parse_operation_name(name)
    try:
        return uuid.UUID(operation)
    except ValueError as error:
        raise InvalidArgument.for_field("name", f'"{operation}" is not an operation ID') from error


class OperationService:
    def __init__(self, db: Database, *, poll_seconds: float = 0.2):
        self._db = db
        self._poll_seconds = poll_seconds

    async def get(self, request: operations_pb2.GetOperationRequest) -> operations_pb2.Operation:
        operation_id = _operation_id(request.name)
        async with self._db.transaction() as session:
            row = await session.get(OperationRow, operation_id)
        if row is None:
            raise NotFound(
                f"operation {request.name} does not exist",
                reason="OPERATION_NOT_FOUND",
                metadata={"resource": request.name},
            )
        return common.operation_to_proto(row)

    async def list(
        self, request: operations_pb2.ListOperationsRequest, *, targets: Sequence[str] | None = None
    ) -> operations_pb2.ListOperationsResponse:
        """`targets`, when given, are LIKE patterns of the target names the caller may see."""
        size = page_token.page_size(request.page_size)
        digest = page_token.query_digest(request.name, request.filter)
        after = page_token.decode(request.page_token, digest)
        query = select(OperationRow)
        expr = parse_filter(request.filter)
        if expr is not None:
            check_fields(expr, FILTER_FIELDS)
            query = query.where(to_sql(expr, _FILTER_COLUMNS))
        if targets is not None:
            query = query.where(or_(false(), *(OperationRow.target.like(pattern) for pattern in targets)))
        if after is not None:
            key = (datetime.fromisoformat(after[0]), uuid.UUID(after[1]))
            query = query.where(tuple_(OperationRow.create_time, OperationRow.id) < tuple_(*key))
        query = query.order_by(OperationRow.create_time.desc(), OperationRow.id.desc()).limit(size + 1)
        async with self._db.transaction() as session:
            rows = (await session.execute(query)).scalars().all()
        response = operations_pb2.ListOperationsResponse(
            operations=[common.operation_to_proto(row) for row in rows[:size]]
        )
        if len(rows) > size:
            last = rows[size - 1]
            response.next_page_token = page_token.encode([last.create_time.isoformat(), str(last.id)], digest)
        return response

    async def wait(self, request: operations_pb2.WaitOperationRequest) -> operations_pb2.Operation:
        """Poll until done or the timeout (default 10 s, at most 60 s); the answer may still be not done."""
        timeout = request.timeout.ToTimedelta().total_seconds() if request.HasField("timeout") else DEFAULT_WAIT_SECONDS
        if timeout < 0:
            raise InvalidArgument.for_field("timeout", "must not be negative")
        deadline = asyncio.get_running_loop().time() + min(timeout, MAX_WAIT_SECONDS)
        get = operations_pb2.GetOperationRequest(name=request.name)
        while True:
            operation = await self.get(get)
            remaining = deadline - asyncio.get_running_loop().time()
            if operation.done or remaining <= 0:
                return operation
            await asyncio.sleep(min(self._poll_seconds, remaining))

    async def cancel(self, request: operations_pb2.CancelOperationRequest) -> None:
        operation_id = _operation_id(request.name)
        async with self._db.transaction() as session:
            row = await session.get(OperationRow, operation_id, with_for_update=True)
            if row is None:
                raise NotFound(
                    f"operation {request.name} does not exist",
                    reason="OPERATION_NOT_FOUND",
                    metadata={"resource": request.name},
                )
            if row.done:
                return
            await audit.record(session)
            at = common.now()
            row.cancel_requested = True
            row.done = True
            row.end_time = at
            row.update_time = at
            row.status_message = "cancelled by request"
            row.error = common.status_json(
                code_pb2.CANCELLED, "the operation was cancelled; the intent it recorded stays"
            )
