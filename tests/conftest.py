"""One embedded PostgreSQL per test run; every test that asks gets a fresh, migrated database.

The schema is migrated once into a template database; each test's database
is a CREATE DATABASE … TEMPLATE copy, which takes milliseconds.
"""

from __future__ import annotations

import itertools
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from storage.embedded import EmbeddedPostgres

from storage.migrate import upgrade

TEMPLATE = "harrow_template"
_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[EmbeddedPostgres]:
    # Not under pytest's tmp_path: pytest prunes old base directories, which would pull the
    # data directory out from under a server while another pytest run starts.
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="harrow-test-pg-")))
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def template_database(postgres: EmbeddedPostgres) -> str:
    import asyncio

    async def create() -> None:
        connection = await asyncpg.connect(postgres.url())
        try:
            await connection.execute(f"CREATE DATABASE {TEMPLATE}")
        finally:
            await connection.close()

    asyncio.run(create())
    upgrade(postgres.url(TEMPLATE))
    return TEMPLATE


@pytest.fixture
async def database_url(postgres: EmbeddedPostgres, template_database: str) -> AsyncIterator[str]:
    name = f"test_{next(_numbers)}"
    connection = await asyncpg.connect(postgres.url())
    try:
        await connection.execute(f"CREATE DATABASE {name} TEMPLATE {template_database}")
    finally:
        await connection.close()
    yield postgres.url(name)
    connection = await asyncpg.connect(postgres.url())
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await connection.close()
