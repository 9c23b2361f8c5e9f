"""The Alembic migrations build exactly the schema the SQLAlchemy models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from storage.migrate import async_url
from storage.models import Base


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
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        names = [row["name"] for row in await connection.fetch("SELECT name FROM clusters")]
    finally:
        await connection.close()
    assert "clusters/local" in names
