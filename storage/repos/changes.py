"""The change log behind Watch.

Writers append unnumbered change rows (revision NULL) and go on: no lock is shared between them, so
writes commit as fast as PostgreSQL's group commit allows. The sequencer numbers rows that have committed,
in batches, holding the revision counter's row lock for one short transaction; a reader only looks at
numbered rows. Since a row is numbered only after it committed, and numbers are handed out under one lock,
"every change after revision N" is complete the moment N is visible — which Watch and List-then-Watch rely
on. Every replica's change feed runs the sequencer when it wakes; they take turns on the counter lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChangeRow, RevisionCounter

# Sent by the changes table's insert trigger (migration 0070) with the change's kind as payload.
NOTIFY_CHANNEL = "harrow_changes"

_NUMBER_PENDING = text(
    """
    WITH pending AS (
        SELECT id, row_number() OVER (ORDER BY id) AS position
        FROM changes WHERE revision IS NULL ORDER BY id LIMIT :batch
    )
    UPDATE changes SET revision = :last + pending.position
    FROM pending WHERE changes.id = pending.id
    RETURNING changes.revision
    """
)


# Built once: executed with a parameter dict, the statement keeps its compiled form and cache key, where
# `insert().values(...)` would rebuild and rehash both for every change. A Core table insert also skips the
# ORM's bulk-insert machinery. The NOTIFY (payload: the kind, delivered at commit) comes from the table's
# trigger (migration 0070), whichever statement inserts the row.
_APPEND = insert(cast(Table, ChangeRow.__table__))


def change(
    *,
    kind: str,
    parent: str,
    name: str,
    uid: uuid.UUID,
    event_type: str,
    resource: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """One change row's columns, for `append_many`."""
    return {
        "kind": kind,
        "parent": parent,
        "name": name,
        "uid": uid,
        "event_type": event_type,
        "resource": resource,
        "create_time": now,
    }


async def append_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Record changes (built by `change`) in one statement, in the order given."""
    if rows:
        await session.execute(_APPEND, list(rows) if len(rows) > 1 else rows[0])


async def sequence_pending(session: AsyncSession, batch: int) -> int:
    """`sequence`, but without taking the counter lock when nothing waits to be numbered (an index lookup)."""
    pending = await session.execute(select(ChangeRow.id).where(ChangeRow.revision.is_(None)).limit(1))
    return await sequence(session, batch) if pending.first() is not None else 0


async def sequence(session: AsyncSession, batch: int) -> int:
    """Number up to `batch` committed, unnumbered changes in append order; returns how many were numbered.

    The counter row is locked by the first statement, so the numbering statement after it sees every
    earlier sequencer's work (READ COMMITTED takes a new snapshot per statement)."""
    last = (
        await session.execute(select(RevisionCounter.last_revision).where(RevisionCounter.id == 1).with_for_update())
    ).scalar_one()
    numbered = len((await session.execute(_NUMBER_PENDING, {"last": last, "batch": batch})).all())
    if numbered:
        await session.execute(
            update(RevisionCounter).where(RevisionCounter.id == 1).values(last_revision=last + numbered)
        )
    return numbered


async def positions(session: AsyncSession) -> tuple[int, int]:
    """(newest revision handed out, newest revision compacted away)."""
    row = (await session.execute(select(RevisionCounter).where(RevisionCounter.id == 1))).scalar_one()
    return row.last_revision, row.compacted_revision


async def since(session: AsyncSession, revision: int, limit: int) -> Sequence[ChangeRow]:
    rows = await session.execute(
        select(ChangeRow).where(ChangeRow.revision > revision).order_by(ChangeRow.revision).limit(limit)
    )
    return rows.scalars().all()


async def compact(session: AsyncSession, keep: int) -> int:
    """Drop all but the newest `keep` numbered changes; returns the new compacted revision."""
    last, compacted = await positions(session)
    through = max(compacted, last - keep)
    if through > compacted:
        await session.execute(delete(ChangeRow).where(ChangeRow.revision <= through))
        await session.execute(update(RevisionCounter).where(RevisionCounter.id == 1).values(compacted_revision=through))
    return through
