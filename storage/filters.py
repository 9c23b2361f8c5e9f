"""AIP-160 filter ASTs (server.domain.filtering) → SQL conditions on a resource table.

The AST has already passed `check_fields`, so every field here is known and
every operator applies. `server.domain.filter_match` evaluates the same AST
in memory for Watch; the two must agree, and the e2e tests hold them to it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, not_, or_
from sqlalchemy.orm import InstrumentedAttribute

from server.domain.filtering import And, Compare, Expr, Has, Not, Or, parse_timestamp

_OPS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": operator.eq,
    "!=": lambda column, value: column.is_distinct_from(value),
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Column:
    """Where a filter field lives: a column, a text cast of it, or a path inside a JSONB column."""

    attribute: InstrumentedAttribute[Any]
    json_path: tuple[str, ...] = ()
    cast_text: bool = False
    # An inet column compared by its address text ("10.0.0.7", not "10.0.0.7/32").
    host: bool = False

    def expression(self) -> Any:
        if self.host:
            return func.host(self.attribute)
        if self.json_path:
            return self.attribute[self.json_path[0] if len(self.json_path) == 1 else self.json_path].astext
        if self.cast_text:
            return cast(self.attribute, String)
        return self.attribute


def to_sql(expr: Expr, columns: Mapping[str, Column]) -> ColumnElement[bool]:
    if isinstance(expr, And):
        return and_(to_sql(expr.left, columns), to_sql(expr.right, columns))
    if isinstance(expr, Or):
        return or_(to_sql(expr.left, columns), to_sql(expr.right, columns))
    if isinstance(expr, Not):
        return not_(to_sql(expr.operand, columns))
    return _term(expr, columns)


def _term(term: Compare | Has, columns: Mapping[str, Column]) -> ColumnElement[bool]:
    full = ".".join(term.field)
    if full in columns and not (isinstance(term, Has) and full == "labels"):
        column = columns[full]
        timestamp = parse_timestamp(term.value.text) if term.value.quoted else None
        value: Any = timestamp if timestamp is not None and not column.json_path else term.value.text
        assert isinstance(term, Compare)
        return _OPS[term.op](column.expression(), value)
    labels = columns[term.field[0]].attribute
    key = term.field[1] if len(term.field) > 1 else None
    if isinstance(term, Has):
        wanted = term.value.text
        has: ColumnElement[bool]
        if key is None:
            has = labels.has_key(wanted) if wanted != "*" else labels != {}
        else:
            has = labels.has_key(key) if wanted == "*" else labels[key].astext == wanted
        return has
    assert key is not None, "check_fields admits only single-label comparisons"
    condition: ColumnElement[bool] = _OPS[term.op](labels[key].astext, term.value.text)
    return condition
