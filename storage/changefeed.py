"""One reader of the change log per process, fanned out to every Watch stream.

PostgreSQL NOTIFY wakes the reader when a change commits (and a short poll
covers a lost notification or a reconnect); the reader pulls new rows once
into a bounded in-memory window that any number of subscribers read. A
subscriber behind the window catches up from the table itself, and one
behind the compacted history gets OUT_OF_RANGE, like Kubernetes' 410 Gone.
A revision is handed out only to a committed row, in order (repos/changes.py),
so "rows after my last revision" never misses one. The reader is also what runs
the sequencer that numbers new rows, whenever it wakes.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from server.domain.errors import OutOfRange
from storage.db import Database
from storage.models import ChangeRow
from storage.repos import changes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    revision: int
    kind: str
    parent: str
    name: str
    uid: uuid.UUID
    event_type: str
    resource: dict[str, Any]


@dataclass(frozen=True)
class Bookmark:
    """Nothing for you up to `revision`."""

    revision: int


class ChangeFeed:
    def __init__(self, db: Database, *, window: int = 10_000, poll_seconds: float = 1.0, batch: int = 1000):
        self._db = db
        self._window_size = window
        self._poll_seconds = poll_seconds
        self._batch = batch
        self._revisions: list[int] = []
        self._window: list[Change] = []
        self._last = 0
        self._wake = asyncio.Event()
        # Replaced on every arrival: a subscriber waits on the one it saw when it found nothing new.
        # No lock: a Condition held across a doubly cancelled wait_for could stay locked forever
        # and stall every watch on the replica.
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def last_revision(self) -> int:
        return self._last

    async def start(self) -> None:
        async with self._db.transaction() as session:
            self._last, _ = await changes.positions(session)
        self._task = asyncio.create_task(self._run(), name="change-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self._db.url, timeout=5)
                await connection.add_listener(changes.NOTIFY_CHANNEL, lambda *_: self._wake.set())
                while True:
                    await self._pull()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
                    self._wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database went away: keep trying, Watch streams wait
                log.warning("change feed lost the database (%s); retrying", type(error).__name__)
                await asyncio.sleep(self._poll_seconds)
            finally:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)

    async def _pull(self) -> None:
        while True:
            async with self._db.transaction() as session:
                numbered = await changes.sequence_pending(session, self._batch)
            if numbered < self._batch:
                break
        while True:
            async with self._db.transaction() as session:
                rows = [_change(row) for row in await changes.since(session, self._last, self._batch)]
            if not rows:
                return
            for change in rows:
                self._revisions.append(change.revision)
                self._window.append(change)
            self._last = rows[-1].revision
            overflow = len(self._window) - self._window_size
            if overflow > 0:
                del self._window[:overflow]
                del self._revisions[:overflow]
            self._arrived.set()
            self._arrived = asyncio.Event()
            if len(rows) < self._batch:
                return

    async def _from_table(self, after: int, limit: int) -> list[Change]:
        async with self._db.transaction() as session:
            _, compacted = await changes.positions(session)
            if after < compacted:
                raise _too_old(after, compacted)
            rows = await changes.since(session, after, limit)
        return [_change(row) for row in rows]

    async def start_position(self, since_revision: int) -> int:
        """Where a new subscription starts; OUT_OF_RANGE when that history is gone or not yet written."""
        async with self._db.transaction() as session:
            last, compacted = await changes.positions(session)
        if since_revision == 0:
            return last
        if since_revision < compacted:
            raise _too_old(since_revision, compacted)
        if since_revision > last:
            raise OutOfRange(
                f"since_revision {since_revision} is ahead of the newest revision {last}",
                reason="REVISION_IN_FUTURE",
                metadata={"newest_revision": str(last)},
            )
        return since_revision

    async def subscribe(self, cursor: int, bookmark_seconds: float) -> AsyncIterator[Change | Bookmark]:
        """Every change after `cursor`, in order, with a Bookmark whenever nothing arrived for a while."""
        while True:
            behind_window = cursor < self._revisions[0] - 1 if self._revisions else cursor < self._last
            caught_up = await self._from_table(cursor, self._batch) if behind_window else []
            for change in caught_up:
                cursor = change.revision
                yield change
            if caught_up:
                continue
            # Nothing awaits between this look and taking `arrived`, so no arrival slips between them.
            arrived = self._arrived
            if not self._revisions or self._revisions[-1] <= cursor:
                try:
                    async with asyncio.timeout(bookmark_seconds):
                        await arrived.wait()
                except TimeoutError:
                    cursor = max(cursor, self._last)
                    pending: list[Change | Bookmark] = [Bookmark(cursor)]
                else:
                    pending = []
            else:
                pending = list(self._window[bisect.bisect_right(self._revisions, cursor) :])
            for item in pending:
                if isinstance(item, Change):
                    cursor = item.revision
                yield item


def _change(row: ChangeRow) -> Change:
    assert row.revision is not None, "readers only select numbered changes"
    return Change(row.revision, row.kind, row.parent, row.name, row.uid, row.event_type, row.resource)


def _too_old(revision: int, compacted: int) -> OutOfRange:
    return OutOfRange(
        f"revision {revision} is older than the retained history (compacted through {compacted}); "
        "list again and watch from the list's revision",
        reason="REVISION_COMPACTED",
        metadata={"compacted_revision": str(compacted)},
    )
