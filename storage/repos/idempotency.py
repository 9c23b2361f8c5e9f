"""request_id bookkeeping (AIP-155).

The key row is inserted first in the mutation's transaction. A concurrent
duplicate blocks on the primary key until the first transaction ends: if it
committed, the duplicate finds the stored answer; if it rolled back, the
duplicate proceeds as the first. So a retried request has exactly one effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import IdempotencyKey

RETENTION = timedelta(hours=24)


@dataclass(frozen=True)
class Prior:
    """An earlier request with the same request_id."""

    method: str
    fingerprint: str
    response: bytes | None


# Built once and executed with parameters: each call skips rebuilding and rehashing the statements.
_CLAIM = (
    insert(IdempotencyKey)
    .values(
        request_id=bindparam("request_id"),
        method=bindparam("method"),
        fingerprint=bindparam("fingerprint"),
        create_time=bindparam("create_time"),
    )
    .on_conflict_do_nothing(index_elements=[IdempotencyKey.request_id])
    .returning(IdempotencyKey.request_id)
)
_PRIOR = select(IdempotencyKey.method, IdempotencyKey.fingerprint, IdempotencyKey.response).where(
    IdempotencyKey.request_id == bindparam("request_id")
)
_STORE = (
    update(IdempotencyKey).where(IdempotencyKey.request_id == bindparam("key")).values(response=bindparam("response"))
)


async def claim(session: AsyncSession, request_id: str, method: str, fingerprint: str, now: datetime) -> Prior | None:
    """Claim `request_id` for this transaction; None if it is ours, else the earlier request."""
    connection = await session.connection()
    parameters = {"request_id": request_id, "method": method, "fingerprint": fingerprint, "create_time": now}
    if (await connection.execute(_CLAIM, parameters)).first() is not None:
        return None
    prior = (await connection.execute(_PRIOR, {"request_id": request_id})).one()
    return Prior(prior.method, prior.fingerprint, prior.response)


async def store(session: AsyncSession, request_id: str, response: bytes) -> None:
    await (await session.connection()).execute(_STORE, {"key": request_id, "response": response})


async def expire(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.create_time < now - RETENTION))
    return int(getattr(result, "rowcount", 0) or 0)
