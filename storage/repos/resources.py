"""Queries shared by every resource table (they all have ResourceColumns)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ResourceColumns

Row = TypeVar("Row", bound=ResourceColumns)


async def get_live(session: AsyncSession, model: type[Row], name: str, *, lock: bool = False) -> Row | None:
    """The resource called `name` unless purged; `lock` holds it (FOR UPDATE) until the transaction ends."""
    query = select(model).where(model.name == name, model.purged.is_(False))
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


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
