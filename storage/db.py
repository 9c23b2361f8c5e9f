"""The async engine and transactions, and the one place database outages become `Unavailable`.

A lost connection must not take the process down: the pool pings before
use, so once PostgreSQL is back the next request simply works; until then
every call fails fast with UNAVAILABLE and a retry hint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from server.domain.errors import Unavailable
from storage.migrate import async_url

_OUTAGE_TYPES = (OSError, ConnectionError, asyncpg.exceptions.CannotConnectNowError, asyncpg.PostgresConnectionError)


def is_outage(error: BaseException) -> bool:
    """Whether an exception means the database cannot be reached (as opposed to a bad query)."""
    if isinstance(error, (*_OUTAGE_TYPES, InterfaceError, PoolTimeout)):
        # PoolTimeout: every connection is busy; like an outage, the caller should retry shortly.
        return True
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated) or isinstance(error.orig, _OUTAGE_TYPES) or _outage_cause(error)
    return False


def _outage_cause(error: BaseException) -> bool:
    cause = error.__cause__
    while cause is not None:
        if isinstance(cause, (*_OUTAGE_TYPES, asyncpg.exceptions.InterfaceError)):
            return True
        cause = cause.__cause__
    return False


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10, timeout_seconds: float = 5.0):
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            # No pre-ping: it costs a round trip per checkout. A connection found dead fails its call with
            # UNAVAILABLE and invalidates the pool, so the next call connects afresh.
            pool_timeout=timeout_seconds,
            connect_args={"timeout": timeout_seconds, "command_timeout": 30},
        )
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._snapshots = async_sessionmaker(
            self.engine.execution_options(isolation_level="REPEATABLE READ"), expire_on_commit=False
        )
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._reads = async_sessionmaker(self._autocommit, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed when the block ends, rolled back on any exception."""
        async with self._translate_outages(), self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for one read statement, in autocommit: no BEGIN/COMMIT round trips (Get calls)."""
        async with self._translate_outages(), self._reads() as session:
            yield session

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one Core read, in autocommit: no ORM session to build either (the Get hot path)."""
        async with self._translate_outages(), self._autocommit.connect() as connection:
            yield connection

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """A REPEATABLE READ transaction: every query sees the same committed state (List + its revision)."""
        async with self._translate_outages(), self._snapshots() as session, session.begin():
            yield session

    @staticmethod
    @asynccontextmanager
    async def _translate_outages() -> AsyncIterator[None]:
        try:
            yield
        except Exception as error:
            if is_outage(error):
                raise Unavailable(
                    "the database is unavailable; retry shortly", reason="DATABASE_UNAVAILABLE"
                ) from error
            raise

    async def close(self) -> None:
        await self.engine.dispose()
