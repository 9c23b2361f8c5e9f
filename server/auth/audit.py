"""The audit log: one append-only row per mutation attempt by a caller (who, what, when, request_id, result).

A successful mutation's row is added inside the mutation's own transaction
(`record`, called from `services.intent.idempotent` and the few services that
write without it), so the change and its record commit or vanish together.
Refusals and failures are written by the guard in a short transaction of
their own. Rows hold names and outcomes only: never request bodies, so never
a token or a kubeconfig.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

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


def _row(call: Call, code: str, reason: str) -> AuditRecordRow:
    return AuditRecordRow(
        time=datetime.now(UTC),
        principal=call.caller.principal,
        method=call.method,
        resource=_storable(call.resource),
        request_id=_storable(call.request_id),
        code=code,
        reason=reason,
        peer=call.peer,
    )


def record(session: AsyncSession) -> None:
    """Add the current mutation's success record to its transaction (once per call)."""
    call = context.current()
    if call is None or not call.mutating or call.audited:
        return
    session.add(_row(call, "OK", ""))
    call.audited = True


async def record_outcome(db: Database, call: Call, code: str, reason: str = "") -> None:
    """A record in its own transaction: for refusals, failures, and mutations that wrote none themselves."""
    try:
        async with db.transaction() as session:
            session.add(_row(call, code, reason))
    except Exception as error:
        # The call's own outcome matters more than its record; the failure is logged, not raised.
        log.warning("audit record for %s on %s not written: %s", call.method, call.resource, type(error).__name__)
