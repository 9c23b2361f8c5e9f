"""Reconcile work in PostgreSQL: claims with leases, retries, and the row writes only the reconciler makes.

A row needs work when its generation is ahead of what was applied (a new
intent, a lifecycle call, a deletion) and it is not backing off, or when it is
due (`next_attempt_at`: a retry or the periodic resync). Claiming takes such
rows `FOR UPDATE SKIP LOCKED` and stamps a lease, so two replicas never get
the same row and a crashed replica's rows come back when its lease expires.
Every release checks `claimed_by`: a worker whose lease was taken over cannot
overwrite its successor's bookkeeping.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ClusterRow, IpAllocationEventRow, IpPoolRow, OperationRow, ResourceColumns

Row = TypeVar("Row", bound=ResourceColumns)


async def claim(
    session: AsyncSession,
    table: type[Row],
    *,
    owner: str,
    clusters: Sequence[str],
    limit: int,
    lease: timedelta,
    now: datetime,
    also_due: ColumnElement[bool] | None = None,
) -> list[Row]:
    """Lease up to `limit` due rows of one resource table and return them as leased; `also_due` adds a
    kind's own reason to look. The worker starts from these rows: no second read before it acts."""
    row: Any = table
    reasons = [row.next_attempt_at <= now, and_(row.attempts == 0, row.generation > row.applied_generation)]
    if also_due is not None:
        reasons.append(and_(row.attempts == 0, also_due))
    candidates = (
        select(row.uid)
        .where(
            row.purged.is_(False),
            row.cluster.in_(list(clusters)),
            or_(row.lease_expires_at.is_(None), row.lease_expires_at < now),
            or_(*reasons),
        )
        .order_by(row.next_attempt_at.asc().nulls_first())
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = await session.execute(
        update(row)
        .where(row.uid.in_(candidates.scalar_subquery()))
        .values(claimed_by=owner, lease_expires_at=now + lease)
        .returning(table)
        .execution_options(synchronize_session=False)
    )
    return list(claimed.scalars().all())


def pool_ledger_moved(debounce: timedelta, now: datetime) -> ColumnElement[bool]:
    """An IP pool whose ledger has events its mirror has not shown, and whose mirror is older than `debounce`.

    Allocations do not bump the pool's generation (they would serialise on the pool row), so the
    ledger's sequence is the signal; the debounce turns a burst of allocations into one mirror write.
    """
    newer = exists().where(
        IpAllocationEventRow.pool_uid == IpPoolRow.uid, IpAllocationEventRow.sequence > IpPoolRow.mirrored_sequence
    )
    return and_(or_(IpPoolRow.mirrored_at.is_(None), IpPoolRow.mirrored_at <= now - debounce), newer)


async def ledger_position(session: AsyncSession, pool_uid: uuid.UUID) -> int:
    """The newest ledger sequence of a pool (0 when it has none)."""
    query = select(func.coalesce(func.max(IpAllocationEventRow.sequence), 0)).where(
        IpAllocationEventRow.pool_uid == pool_uid
    )
    return int((await session.execute(query)).scalar_one())


async def held(session: AsyncSession, table: type[Row], uid: uuid.UUID, owner: str) -> Row | None:
    """The row, locked, if `owner` still holds its lease."""
    row: Any = table
    query = select(table).where(row.uid == uid, row.claimed_by == owner)
    return (await session.execute(query.with_for_update())).scalar_one_or_none()


async def locked_many(session: AsyncSession, table: type[Row], uids: Sequence[uuid.UUID]) -> Sequence[Row]:
    """Live rows, locked in uid order (a fixed order, so two batches never deadlock)."""
    row: Any = table
    query = select(table).where(row.uid.in_(list(uids)), row.purged.is_(False)).order_by(row.uid).with_for_update()
    return (await session.execute(query)).scalars().all()


async def live_uids(session: AsyncSession, table: type[ResourceColumns], cluster: str) -> list[uuid.UUID]:
    row: Any = table
    query = select(row.uid).where(row.cluster == cluster, row.purged.is_(False))
    return list((await session.execute(query)).scalars().all())


async def pending_operations_of(
    session: AsyncSession, uids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[OperationRow]]:
    query = (
        select(OperationRow)
        .where(OperationRow.target_uid.in_(list(uids)), OperationRow.done.is_(False))
        .order_by(OperationRow.target_uid, OperationRow.create_time)
        .with_for_update()
    )
    found: dict[uuid.UUID, list[OperationRow]] = {}
    for operation in (await session.execute(query)).scalars().all():
        found.setdefault(operation.target_uid, []).append(operation)
    return found


def release_done(row: ResourceColumns, *, applied_generation: int, next_attempt_at: datetime) -> None:
    row.claimed_by = None
    row.lease_expires_at = None
    row.attempts = 0
    row.last_error = None
    row.applied_generation = max(row.applied_generation, applied_generation)
    row.next_attempt_at = next_attempt_at


def release_failed(row: ResourceColumns, *, error: str, now: datetime, base: float, cap: float) -> float:
    """Back off exponentially with full jitter, per object; returns the delay chosen."""
    row.attempts += 1
    delay = random.uniform(base / 2, min(cap, base * 2 ** (row.attempts - 1)))
    row.claimed_by = None
    row.lease_expires_at = None
    row.last_error = error
    row.next_attempt_at = now + timedelta(seconds=delay)
    return delay


def poke(row: ResourceColumns, now: datetime) -> None:
    """Make the row claimable now (the cluster changed under it), keeping any backoff in force."""
    if row.attempts == 0 and (row.next_attempt_at is None or row.next_attempt_at > now):
        row.next_attempt_at = now


async def pending_operations(session: AsyncSession, uid: uuid.UUID) -> Sequence[OperationRow]:
    query = (
        select(OperationRow)
        .where(OperationRow.target_uid == uid, OperationRow.done.is_(False))
        .order_by(OperationRow.create_time)
        .with_for_update()
    )
    return (await session.execute(query)).scalars().all()


def finish_operation(
    operation: OperationRow,
    *,
    now: datetime,
    message: str,
    response: dict[str, object] | None,
    error: dict[str, object] | None,
) -> None:
    operation.done = True
    operation.end_time = now
    operation.update_time = now
    operation.status_message = message
    operation.response = None if error is not None else response
    operation.error = error


async def clusters(session: AsyncSession) -> Sequence[ClusterRow]:
    return (await session.execute(select(ClusterRow).where(ClusterRow.purged.is_(False)))).scalars().all()


async def cluster_locked(session: AsyncSession, uid: uuid.UUID) -> ClusterRow | None:
    query = select(ClusterRow).where(ClusterRow.uid == uid, ClusterRow.purged.is_(False)).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()
