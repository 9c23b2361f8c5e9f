"""The change log behind Watch.

Revisions come from a single counter row updated as the last step of each
writing transaction. The row lock is held until commit, so revisions commit
in order: a reader that has seen revision N can never later find a committed
N-1 it missed. That makes "everything after revision N" a complete answer,
which Watch and List-then-Watch rely on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChangeRow, RevisionCounter

NOTIFY_CHANNEL = "harrow_changes"


async def append(
    session: AsyncSession,
    *,
    kind: str,
    parent: str,
    name: str,
    uid: uuid.UUID,
    event_type: str,
    resource: dict[str, Any],
    now: datetime,
) -> int:
    """Record one change and return its revision. Call it last in the transaction: it serialises writers."""
    revision = (
        await session.execute(
            update(RevisionCounter)
            .where(RevisionCounter.id == 1)
            .values(last_revision=RevisionCounter.last_revision + 1)
            .returning(RevisionCounter.last_revision)
        )
    ).scalar_one()
    session.add(
        ChangeRow(
            revision=revision,
            kind=kind,
            parent=parent,
            name=name,
            uid=uid,
            event_type=event_type,
            resource=resource,
            create_time=now,
        )
    )
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": NOTIFY_CHANNEL, "payload": str(revision)}
    )
    return int(revision)


async def positions(session: AsyncSession) -> tuple[int, int]:
    """(last revision handed out, newest revision compacted away)."""
    row = (await session.execute(select(RevisionCounter).where(RevisionCounter.id == 1))).scalar_one()
    return row.last_revision, row.compacted_revision


async def since(session: AsyncSession, revision: int, limit: int) -> Sequence[ChangeRow]:
    rows = await session.execute(
        select(ChangeRow).where(ChangeRow.revision > revision).order_by(ChangeRow.revision).limit(limit)
    )
    return rows.scalars().all()


async def compact(session: AsyncSession, keep: int) -> int:
    """Drop all but the newest `keep` changes; returns the new compacted revision."""
    last, compacted = await positions(session)
    through = max(compacted, last - keep)
    if through > compacted:
        await session.execute(delete(ChangeRow).where(ChangeRow.revision <= through))
        await session.execute(update(RevisionCounter).where(RevisionCounter.id == 1).values(compacted_revision=through))
    return through


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(ChangeRow))).scalar_one())
