"""How an allocation holds its pool: side by side with other allocations, ahead of a change to the pool."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from storage.db import Database
from storage.models import IpPoolRow
from storage.repos import ip_allocations, resources

POOL = "clusters/local/ipPools/p"


async def _add_pool(db: Database) -> None:
    at = datetime.now(UTC)
    async with db.transaction() as session:
        session.add(
            IpPoolRow(
                uid=uuid.uuid4(),
                name=POOL,
                cluster="local",
                spec={"ranges": [{"subnet": "10.0.0.0/24"}]},
                status={},
                state="READY",
                conditions=[],
                labels={},
                annotations={},
                generation=1,
                observed_generation=1,
                etag='"e"',
                create_time=at,
                update_time=at,
                purged=False,
            )
        )


async def _allocation_read(db: Database, owner: str) -> bool:
    async with db.transaction() as session:
        return await ip_allocations.pool_and_view(session, POOL, owner) is not None


async def _pool_change_read(db: Database) -> bool:
    """What an update or delete of the pool does first: take the row FOR UPDATE."""
    async with db.transaction() as session:
        return await resources.get_live(session, IpPoolRow, POOL, lock=True) is not None


async def test_allocations_do_not_queue_behind_each_other_but_a_pool_change_waits_for_them(database_url: str) -> None:
    db = Database(database_url)
    try:
        await _add_pool(db)
        async with db.transaction() as first:
            assert await ip_allocations.pool_and_view(first, POOL, "a") is not None
            # A second allocation from the same pool answers while the first is still open.
            assert await asyncio.wait_for(_allocation_read(db, "b"), 10)
            change = asyncio.create_task(_pool_change_read(db))
            await asyncio.sleep(0.5)
            assert not change.done(), "a pool change went ahead of an allocation in flight"
        assert await asyncio.wait_for(change, 10)
    finally:
        await db.engine.dispose()
