"""The audit log: one append-only row per mutation attempt by a caller (who, what, when, request_id, result).

A successful mutation's row is written inside the mutation's own transaction
(`record`, called by the few services that write without
`services.intent.idempotent`), so the change and its record commit or vanish
together. `idempotent` defers it instead (`defer`): a hot path's own statement
may carry the row (`take`: a data-modifying CTE of an allocation's pool read,
or a row of an operation's insert), which saves a round trip that costs more
server CPU than the insert itself; whatever no statement took is written before the commit
(`write_deferred`). Refusals and failures are written by the guard in a short
transaction of their own. Rows hold names and outcomes only: never request
bodies, so never a token or a kubeconfig.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import context
from server.auth.context import Call
from storage.db import Database
from storage.models import AuditRecordRow

log = logging.getLogger(__name__)


# Refused requests are recorded too, with whatever name they carried: a megabyte, or a NUL that
# PostgreSQL cannot store, must not cost the record.
MAX_FIELD = 1024


def _storable(text: str) -> str:
    text = text.replace("\x00", "\\0")
    return text if len(text) <= MAX_FIELD else f"{text[:MAX_FIELD]}… ({len(text)} characters)"


def _values(call: Call, code: str, reason: str) -> dict[str, Any]:
    """An audit row's columns (all but its sequence)."""
    return {
        "time": datetime.now(UTC),
        "principal": call.caller.principal,
        "method": call.method,
        "resource": _storable(call.resource),
        "request_id": _storable(call.request_id),
        "code": code,
        "reason": reason,
        "peer": call.peer,
    }


# Core, built once: no unit of work, and a statement that keeps its cache key across calls.
_INSERT = insert(cast(Table, AuditRecordRow.__table__))
_DEFERRED = "harrow_audit_deferred"


def _success() -> dict[str, Any] | None:
    """The current mutation's success record, unless the call needs none or already has one."""
    call = context.current()
    if call is None or not call.mutating or call.audited:
        return None
    call.audited = True
    return _values(call, "OK", "")


async def record(session: AsyncSession) -> None:
    """Write the current mutation's success record in its transaction (once per call)."""
    row = _success()
    if row is not None:
        await (await session.connection()).execute(_INSERT, row)


def defer(session: AsyncSession) -> None:
    """Owe the current mutation's success record to this transaction: `take` or `write_deferred` settles it."""
    row = _success()
    if row is not None:
        session.info[_DEFERRED] = row


def take(session: AsyncSession) -> dict[str, Any] | None:
    """The owed record's columns, for a statement that writes it itself (None: nothing is owed)."""
    row: dict[str, Any] | None = session.info.pop(_DEFERRED, None)
    return row


async def write_deferred(session: AsyncSession) -> None:
    """Write the owed record, if no statement carried it; call before the transaction commits."""
    row = take(session)
    if row is not None:
        await (await session.connection()).execute(_INSERT, row)


async def record_outcome(db: Database, call: Call, code: str, reason: str = "") -> None:
    """A record in its own transaction: for refusals, failures, and mutations that wrote none themselves."""
    try:
        async with db.transaction() as session:
            await (await session.connection()).execute(_INSERT, _values(call, code, reason))
    except Exception as error:
        # The call's own outcome matters more than its record; the failure is logged, not raised.
        log.warning("audit record for %s on %s not written: %s", call.method, call.resource, type(error).__name__)
