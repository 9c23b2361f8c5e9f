"""The change feed wakes its subscribers, however their waits end."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from storage.changefeed import Bookmark, Change, ChangeFeed
from storage.db import Database
from storage.repos import changes


@pytest.fixture
async def feed(database_url: str) -> AsyncIterator[tuple[Database, ChangeFeed]]:
    db = Database(database_url)
    change_feed = ChangeFeed(db, poll_seconds=0.05)
    await change_feed.start()
    try:
        yield db, change_feed
    finally:
        await change_feed.stop()
        await db.engine.dispose()


async def _write(db: Database, name: str) -> None:
    async with db.transaction() as session:
        change = changes.change(
            kind="VirtualMachine",
            parent="clusters/local/namespaces/default",
            name=name,
            uid=uuid.uuid4(),
            event_type="ADDED",
            resource={},
            now=datetime.now(UTC),
        )
        await changes.append_many(session, [change])


async def _next_change(feed: ChangeFeed, cursor: int) -> Change:
    async for item in feed.subscribe(cursor, bookmark_seconds=30):
        if not isinstance(item, Bookmark):
            return item
    raise AssertionError("the feed ended")


async def test_subscribers_cancelled_twice_as_a_change_arrives_do_not_stall_the_others(
    feed: tuple[Database, ChangeFeed],
) -> None:
    """A gRPC stream torn down during shutdown can be cancelled twice, just as a change wakes every waiter."""
    db, change_feed = feed
    cursor = change_feed.last_revision
    waiting = [asyncio.create_task(_next_change(change_feed, cursor)) for _ in range(20)]
    await asyncio.sleep(0.05)
    await _write(db, "clusters/local/namespaces/default/virtualMachines/first")
    while change_feed.last_revision == cursor:  # noqa: ASYNC110  (resume on the very turn the feed wakes them)
        await asyncio.sleep(0)
    for _ in range(2):
        for task in waiting[10:]:
            task.cancel()
        await asyncio.sleep(0)
    survivors = await asyncio.wait_for(asyncio.gather(*waiting[:10]), 5)
    assert {change.name.rsplit("/", 1)[1] for change in survivors} == {"first"}
    await asyncio.gather(*waiting[10:], return_exceptions=True)

    latecomer = asyncio.create_task(_next_change(change_feed, change_feed.last_revision))
    await asyncio.sleep(0.05)
    await _write(db, "clusters/local/namespaces/default/virtualMachines/second")
    assert (await asyncio.wait_for(latecomer, 5)).name.endswith("/second")
