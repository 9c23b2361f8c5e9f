"""The Alembic migrations build exactly the schema the SQLAlchemy models describe."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from storage.migrate import async_url
from storage.models import Base

if TYPE_CHECKING:
    from storage.embedded import EmbeddedPostgres


async def test_migrations_and_models_agree(database_url: str) -> None:
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert differences == []


async def test_the_local_cluster_is_created_by_the_first_migration(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        names = [row["name"] for row in await connection.fetch("SELECT name FROM clusters")]
    finally:
        await connection.close()
    assert "clusters/local" in names


async def test_replicas_starting_together_migrate_once(postgres: EmbeddedPostgres) -> None:
    """Three processes migrating an empty database at once (replicas, or the migrate Job beside them):
    all succeed and one schema results. Processes, because Alembic's context is per process."""
    name = "concurrent_migrate"
    admin = await asyncpg.connect(postgres.url())
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        migrate = f"from storage.migrate import upgrade; upgrade({postgres.url(name)!r})"
        processes = [
            await asyncio.create_subprocess_exec(sys.executable, "-c", migrate, stderr=asyncio.subprocess.PIPE)
            for _ in range(3)
        ]
        outcomes = [
            (await process.wait(), (await process.stderr.read()).decode()) for process in processes if process.stderr
        ]
        connection = await asyncpg.connect(postgres.url(name))
        try:
            versions = await connection.fetch("SELECT version_num FROM alembic_version")
            local_clusters = await connection.fetchval("SELECT count(*) FROM clusters WHERE name = 'clusters/local'")
        finally:
            await connection.close()
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    assert len(versions) == 1
    assert local_clusters == 1
