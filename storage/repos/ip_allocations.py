"""The allocation path of IPAM in as few round trips as its guarantees allow.

An allocation used to cost a statement per question (is the pool there, does
the owner hold an address, what did it hold before, what was handed out last,
insert, ledger event). Each round trip through the driver costs more server
CPU than PostgreSQL spends answering it, so the questions are asked together:

- `pool_and_view` reads the pool FOR KEY SHARE together with the owner's view
  (held address, previous address, the pool's last allocation), one statement,
  which also inserts the call's audit row;
- `claim` and `claim_first_free` insert the allocation and its ledger event in
  one statement (a data-modifying CTE), so the ledger cannot miss an allocation
  and no event is written for a candidate that was lost to a race.

The guarantees are the ones described in server/services/ip_pools.py: the
(cluster, address) primary key makes a duplicate impossible; the pool lock
makes a shrink or delete wait for allocations in flight.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import UUID, ScalarSelect, SQLColumnExpression, Table, Text, bindparam, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditRecordRow, IpAllocationEventRow, IpAllocationRow, IpPoolRow

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class OwnerView:
    """What allocating for one owner in one pool needs to know, read at once."""

    # The address the owner holds now and since when (None: holds none).
    held: Address | None
    held_since: datetime | None
    # The address the ledger last gave this owner in this pool (the sticky choice).
    previous: Address | None
    # The pool's most recent allocation (the next-free search starts after it).
    last: Address | None


def _address(value: Any) -> Address | None:
    return ipaddress.ip_address(str(value).split("/")[0]) if value is not None else None


def _view_columns(pool_uid: SQLColumnExpression[uuid.UUID]) -> list[ScalarSelect[Any]]:
    owner = bindparam("owner", type_=Text)
    held = select(IpAllocationRow).where(IpAllocationRow.pool_uid == pool_uid, IpAllocationRow.owner == owner)
    allocations = select(IpAllocationEventRow.address).where(
        IpAllocationEventRow.pool_uid == pool_uid, IpAllocationEventRow.action == "ALLOCATE"
    )
    newest = IpAllocationEventRow.sequence.desc()
    return [
        held.with_only_columns(IpAllocationRow.address).scalar_subquery(),
        held.with_only_columns(IpAllocationRow.allocate_time).scalar_subquery(),
        allocations.where(IpAllocationEventRow.owner == owner).order_by(newest).limit(1).scalar_subquery(),
        allocations.order_by(newest).limit(1).scalar_subquery(),
    ]


# Built once: a reused statement keeps its cache key, so each allocation skips rebuilding and rehashing it.
_POOL_AND_VIEW = (
    select(IpPoolRow, *_view_columns(IpPoolRow.uid))
    .where(IpPoolRow.name == bindparam("name"), IpPoolRow.purged.is_(False))
    .with_for_update(read=True, key_share=True, of=IpPoolRow)  # FOR KEY SHARE (without read: NO KEY UPDATE)
)
_OWNER_VIEW = select(*_view_columns(bindparam("pool_uid", type_=UUID(as_uuid=True))))
_AUDIT_COLUMNS = [column for column in AuditRecordRow.__table__.columns if column.key != "sequence"]
# The same, carrying the call's audit row (a data-modifying CTE): the row costs no round trip of its own.
_POOL_AND_VIEW_AUDITED = _POOL_AND_VIEW.add_cte(
    insert(cast(Table, AuditRecordRow.__table__))
    .values({column: bindparam(f"audit_{column.key}", type_=column.type) for column in _AUDIT_COLUMNS})
    .cte("audit")
)


def _view(values: Any) -> OwnerView:
    held, held_since, previous, last = values
    return OwnerView(_address(held), held_since, _address(previous), _address(last))


async def pool_and_view(
    session: AsyncSession, name: str, owner: str, audit: dict[str, Any] | None = None
) -> tuple[IpPoolRow, OwnerView] | None:
    """The live pool called `name`, held FOR KEY SHARE until the transaction ends, and `owner`'s view of it.

    `audit`: an audit row's columns (all but its sequence) to insert in the same statement."""
    if audit is None:
        row = (await session.execute(_POOL_AND_VIEW, {"name": name, "owner": owner})).first()
    else:
        parameters = {"name": name, "owner": owner, **{f"audit_{key}": value for key, value in audit.items()}}
        row = (await session.execute(_POOL_AND_VIEW_AUDITED, parameters)).first()
    return None if row is None else (row[0], _view(row[1:]))


async def owner_view(session: AsyncSession, pool_uid: uuid.UUID, owner: str) -> OwnerView:
    """`owner`'s view of a pool the caller already holds."""
    return _view((await session.execute(_OWNER_VIEW, {"pool_uid": pool_uid, "owner": owner})).one())


_LEDGER = """
ledger AS (
    INSERT INTO ip_allocation_events (cluster, pool_uid, pool, action, address, owner, time, request_id, actor)
    SELECT :cluster, :pool_uid, :pool, 'ALLOCATE', claimed.address, :owner, :allocate_time, :request_id, ''
    FROM claimed
)
SELECT host(address) FROM claimed
"""

# Waits out a transaction inserting the same address (or for the same owner) right now: if it rolls back,
# the address is ours. Either conflict gives nothing back; the caller looks at which (services/ip_pools.py).
_CLAIM = text(
    """
    WITH claimed AS (
        INSERT INTO ip_allocations (cluster, address, pool_uid, owner, allocate_time, request_id)
        VALUES (:cluster, CAST(:address AS inet), :pool_uid, :owner, :allocate_time, :request_id)
        ON CONFLICT DO NOTHING
        RETURNING address
    ),
    """
    + _LEDGER
)

# One round trip tries a whole batch: the first candidate that is neither allocated nor being inserted by
# another transaction right now (a transaction-scoped try-lock on it, safe behind PgBouncer) is taken, so
# racing allocators fan out over the free addresses instead of queueing behind each other's commits. The
# primary key, not the lock, is what guarantees one owner per address.
_CLAIM_FIRST_FREE = text(
    """
    WITH claimed AS (
        INSERT INTO ip_allocations (cluster, address, pool_uid, owner, allocate_time, request_id)
        SELECT :cluster, free.address, :pool_uid, :owner, :allocate_time, :request_id
        FROM (
            SELECT candidate.address
            FROM unnest(CAST(:candidates AS inet[])) WITH ORDINALITY AS candidate(address, position)
            WHERE NOT EXISTS (
                SELECT 1 FROM ip_allocations taken WHERE taken.cluster = :cluster AND taken.address = candidate.address)
            ORDER BY candidate.position
            OFFSET 0  -- keeps the order: the try-lock below runs on free candidates first to last, up to one win
        ) AS free
        WHERE pg_try_advisory_xact_lock(hashtextextended(:cluster || '/' || host(free.address), 0))
        LIMIT 1
        ON CONFLICT DO NOTHING
        RETURNING address
    ),
    """
    + _LEDGER
)


@dataclass(frozen=True)
class Claim:
    """Who takes an address, from which pool, when, under which request_id."""

    pool: IpPoolRow
    owner: str
    request_id: str
    at: datetime

    def parameters(self) -> dict[str, Any]:
        return {
            "cluster": self.pool.cluster,
            "pool_uid": self.pool.uid,
            "pool": self.pool.name,
            "owner": self.owner,
            "allocate_time": self.at,
            "request_id": self.request_id or None,
        }


async def claim(session: AsyncSession, claim: Claim, address: Address) -> Address | None:
    """Allocate `address` and record it in the ledger; None when someone holds it, or the owner now holds one."""
    result = await session.execute(_CLAIM, {**claim.parameters(), "address": str(address)})
    return _address(result.scalar_one_or_none())


async def claim_first_free(session: AsyncSession, claim: Claim, candidates: list[Address]) -> Address | None:
    """Allocate the first free candidate and record it in the ledger; None when none of them is free, or
    when a concurrent allocation for the same owner committed first (one address per owner and pool)."""
    result = await session.execute(
        _CLAIM_FIRST_FREE, {**claim.parameters(), "candidates": [str(a) for a in candidates]}
    )
    return _address(result.scalar_one_or_none())
