"""Queries shared by every resource table (they all have ResourceColumns)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy import (
    CTE,
    ColumnElement,
    Insert,
    Select,
    Table,
    bindparam,
    exists,
    insert,
    inspect,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import greenlet_spawn

from server.domain.errors import Unavailable
from storage.db import Database, is_outage
from storage.models import Base, ResourceColumns

Row = TypeVar("Row", bound=ResourceColumns)


async def get_live(session: AsyncSession, model: type[Row], name: str, *, lock: bool = False) -> Row | None:
    """The resource called `name` unless purged; `lock` holds it (FOR UPDATE) until the transaction ends."""
    row: Row | None = (await session.execute(_live_query(model, lock), {"name": name})).scalar_one_or_none()
    return row


async def insert_new(session: AsyncSession, row: Base, *more: Base) -> None:
    """INSERT new rows now, all in one statement (the others as data-modifying CTEs of the first's INSERT).

    Core, not the ORM unit of work, and one statement per shape of rows, built once: each round trip and
    each rebuilt statement costs more server CPU than PostgreSQL spends on the insert. Only the
    attributes a row was given are written, so server defaults apply to the rest as with a flush. The
    rows stay out of the session: they are written once and never updated in the same transaction."""
    rows = (row, *more)
    given = [_given(each) for each in rows]
    shape = tuple((type(each), frozenset(columns)) for each, columns in zip(rows, given, strict=True))
    statement = _INSERTS.get(shape)
    if statement is None:
        statement = _INSERTS[shape] = _insert_statement(shape)
    parameters = {f"r{index}_{key}": value for index, columns in enumerate(given) for key, value in columns.items()}
    await (await session.connection()).execute(statement, parameters)


Shape = tuple[tuple[type[Base], frozenset[str]], ...]
_INSERTS: dict[Shape, Insert] = {}
_COLUMNS: dict[type[Base], dict[str, ColumnElement[Any]]] = {}


def _columns(model: type[Base]) -> dict[str, ColumnElement[Any]]:
    """Attribute name -> its column, per model (the two differ where a column name is a Python keyword)."""
    columns = _COLUMNS.get(model)
    if columns is None:
        columns = _COLUMNS[model] = {attribute.key: attribute.columns[0] for attribute in inspect(model).column_attrs}
    return columns


def _given(row: Base) -> dict[str, Any]:
    """The column values a new row object was given, by attribute name."""
    columns = _columns(type(row))
    return {key: value for key, value in inspect(row).dict.items() if key in columns}


async def insert_new_unless(
    session: AsyncSession,
    condition: ColumnElement[bool],
    parameters: dict[str, Any],
    also: ColumnElement[Any],
    row: Base,
    *more: Base,
) -> tuple[bool, bool, Any]:
    """`insert_new` and a create's checks in one statement: (condition, whether `row` went in, `also`).

    `row` goes in only when `condition` holds and no unique key of its table is taken (ON CONFLICT DO
    NOTHING: a concurrent insert of the same key is waited out first); `more` ride on it, so they go in
    with it or not at all. `condition` and `also` read `parameters`; build them once, so the statement is
    built once too. A caller that refuses after reading `also` raises, and the transaction rolls back."""
    rows = (row, *more)
    given = [_given(each) for each in rows]
    shape = tuple((type(each), frozenset(columns)) for each, columns in zip(rows, given, strict=True))
    key = (shape, id(condition), id(also))  # by identity: `==` on SQL expressions builds SQL
    statement = _CHECKED_INSERTS.get(key)
    if statement is None:
        statement = _CHECKED_INSERTS[key] = _checked_insert_statement(shape, condition, also)
    values = {f"r{index}_{key}": value for index, columns in enumerate(given) for key, value in columns.items()}
    holds, inserted, extra = (await session.execute(statement, {**parameters, **values})).one()
    return bool(holds), bool(inserted), extra


_CHECKED_INSERTS: dict[tuple[Shape, int, int], Select[Any]] = {}


def _checked_insert_statement(shape: Shape, condition: ColumnElement[bool], also: ColumnElement[Any]) -> Select[Any]:
    first: CTE | None = None
    ctes: list[CTE] = []
    for index, (model, keys) in enumerate(shape):
        columns = _columns(model)
        table = cast(Table, inspect(model).local_table)
        ordered = sorted(keys)
        values = select(*[bindparam(f"r{index}_{key}", type_=columns[key].type) for key in ordered])
        targets = [columns[key] for key in ordered]
        if first is None:
            first = (
                postgresql.insert(table)
                .from_select(targets, values.where(condition))
                .on_conflict_do_nothing()
                .returning(literal_column("1").label("inserted"))
                .cte("inserted_row")
            )
        else:
            ctes.append(insert(table).from_select(targets, values.select_from(first)).cte(f"also_{index}"))
    assert first is not None
    statement = select(condition, exists(select(first.c.inserted)), also)
    for cte in ctes:
        statement = statement.add_cte(cte)
    return statement


def _insert_statement(shape: Shape) -> Insert:
    inserts = []
    for index, (model, keys) in enumerate(shape):
        columns = _columns(model)
        table = cast(Table, inspect(model).local_table)
        bound = {columns[key]: bindparam(f"r{index}_{key}", type_=columns[key].type) for key in sorted(keys)}
        inserts.append(insert(table).values(bound))
    statement = inserts[0]
    for index, other in enumerate(inserts[1:], start=1):
        statement = statement.add_cte(other.cte(f"also_{index}"))
    return statement


async def read_live(db: Database, model: type[Row], name: str) -> Row | None:
    """`get_live` for a Get: one statement on a pooled asyncpg connection, outside any transaction.

    The Core statement is compiled once per table and run by the driver itself, on a connection taken
    straight from the pool: SQLAlchemy's Connection, execute and result machinery, and the ORM's
    instrumented constructor, cost more CPU than the query (a Get spent 0.1-0.2 ms in them). The row is
    built the way the ORM builds a loaded one (its state, then its attribute values) and is detached,
    which a Get that only turns it into a proto never notices.

    When the driver fails, the connection is dropped if it is dead and the read is made again through
    SQLAlchemy, which answers as for every other statement: it invalidates the whole pool on a
    disconnect, and storage.db turns an outage into UNAVAILABLE. A read is safe to repeat."""
    try:
        pooled = await db.engine.raw_connection()
    except Exception as error:
        if is_outage(error):
            raise Unavailable("the database is unavailable; retry shortly", reason="DATABASE_UNAVAILABLE") from error
        raise
    sql, keys = _live_row_sql(model, db.engine.dialect)
    driver: asyncpg.Connection = pooled.driver_connection
    found: Sequence[Any] | None = None
    failed = False
    try:
        found = await driver.fetchrow(sql, name)
    except Exception as error:
        failed = True
        if driver.is_closed() or isinstance(error, _DRIVER_OUTAGES):
            await greenlet_spawn(pooled.invalidate, error)
    finally:
        await greenlet_spawn(pooled.close)  # back to the pool; its reset may need the event loop
    if failed:
        async with db.connect() as connection:
            found = (await connection.execute(_live_row_query(model), {"name": name})).first()
    if found is None:
        return None
    row = cast(Row, inspect(model).class_manager.new_instance())
    row.__dict__.update(zip(keys, found, strict=True))
    return row


# What asyncpg raises when the server or the connection is gone (SQLAlchemy's is_disconnect, for the raw driver).
_DRIVER_OUTAGES = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.AdminShutdownError)
_LIVE_ROW_SQL: dict[type[ResourceColumns], tuple[str, tuple[str, ...]]] = {}


def _live_row_sql(model: type[ResourceColumns], dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """The live-row SELECT as asyncpg text (one `$1`, the name) and the attribute each result column fills."""
    compiled = _LIVE_ROW_SQL.get(model)
    if compiled is None:
        query = _live_row_query(model)
        keys = tuple(column.key for column in inspect(model).column_attrs)
        compiled = _LIVE_ROW_SQL[model] = (str(query.compile(dialect=dialect)), keys)
    return compiled


_LIVE_ROW_QUERIES: dict[type[ResourceColumns], Select[Any]] = {}


def _live_row_query(model: type[ResourceColumns]) -> Select[Any]:
    query = _LIVE_ROW_QUERIES.get(model)
    if query is None:
        columns = [getattr(model, column.key) for column in inspect(model).column_attrs]
        query = _LIVE_ROW_QUERIES[model] = select(*columns).where(
            model.name == bindparam("name"), model.purged.is_(False)
        )
    return query


_LIVE_QUERIES: dict[tuple[type[ResourceColumns], bool], Select[Any]] = {}


def _live_query(model: type[ResourceColumns], lock: bool) -> Select[Any]:
    """Built once per table: a reused statement keeps its cache key, so a Get skips rebuilding and rehashing it."""
    query = _LIVE_QUERIES.get((model, lock))
    if query is None:
        query = select(model).where(model.name == bindparam("name"), model.purged.is_(False))
        query = _LIVE_QUERIES[(model, lock)] = query.with_for_update() if lock else query
    return query


async def page(
    session: AsyncSession,
    model: type[Row],
    *,
    where: Sequence[ColumnElement[bool]],
    order_column: str,
    descending: bool,
    after: list[Any] | None,
    limit: int,
) -> Sequence[Row]:
    """One keyset page ordered by (order_column, name): rows strictly after `after`, the previous page's last key."""
    column = getattr(model, order_column)
    keys = [column, model.name] if order_column != "name" else [model.name]
    query = select(model).where(model.purged.is_(False), *where)
    if after is not None:
        bound = tuple_(*keys)
        query = query.where(bound < tuple_(*after) if descending else bound > tuple_(*after))
    query = query.order_by(*[key.desc() if descending else key.asc() for key in keys]).limit(limit)
    return (await session.execute(query)).scalars().all()
