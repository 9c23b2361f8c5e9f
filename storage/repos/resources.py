"""Queries shared by every resource table (they all have ResourceColumns)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, insert, inspect, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Base, ResourceColumns

Row = TypeVar("Row", bound=ResourceColumns)


async def get_live(session: AsyncSession, model: type[Row], name: str, *, lock: bool = False) -> Row | None:
    """The resource called `name` unless purged; `lock` holds it (FOR UPDATE) until the transaction ends."""
    row: Row | None = (await session.execute(_live_query(model, lock), {"name": name})).scalar_one_or_none()
    return row


async def insert_new(session: AsyncSession, row: Base) -> None:
    """INSERT a new row now, with one Core statement: the ORM unit of work costs more CPU than the round trip.

    Only the attributes the row was given are written, so server defaults apply to the rest as with a
    flush. The row stays out of the session: it is written once and never updated in the same transaction."""
    columns = {attribute.key for attribute in inspect(type(row)).column_attrs}
    await session.execute(insert(type(row)).values({k: v for k, v in inspect(row).dict.items() if k in columns}))


async def read_live(db: Database, model: type[Row], name: str) -> Row | None:
    """`get_live` for a Get: one Core statement on an autocommit connection, the row built from its columns.

    Skipping the ORM session and its identity map halves the Python work of the read; the object is
    detached, which a Get that only turns it into a proto never notices."""
    async with db.connect() as connection:
        found = (await connection.execute(_live_row_query(model), {"name": name})).first()
    return None if found is None else model(**found._mapping)


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
