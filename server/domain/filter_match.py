"""Evaluate a checked AIP-160 filter AST against one resource in memory (Watch).

It gives the same answers as the SQL translation in storage/filters.py:
`!=` holds when the field or label is absent, timestamps compare as instants,
and `labels:key` asks whether a key exists.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from server.domain.filtering import And, Compare, Expr, FieldKind, Has, Not, Or, parse_timestamp

Lookup = Callable[[tuple[str, ...]], Any]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def evaluate(expr: Expr, lookup: Lookup, kinds: Mapping[str, FieldKind]) -> bool:
    if isinstance(expr, And):
        return evaluate(expr.left, lookup, kinds) and evaluate(expr.right, lookup, kinds)
    if isinstance(expr, Or):
        return evaluate(expr.left, lookup, kinds) or evaluate(expr.right, lookup, kinds)
    if isinstance(expr, Not):
        return not evaluate(expr.operand, lookup, kinds)
    return _term(expr, lookup, kinds)


def _term(term: Compare | Has, lookup: Lookup, kinds: Mapping[str, FieldKind]) -> bool:
    full = ".".join(term.field)
    kind = kinds.get(full)
    if kind is not None and kind.kind != "label_map":
        assert isinstance(term, Compare)
        actual = lookup(term.field)
        if kind.kind == "timestamp":
            when = parse_timestamp(actual) if isinstance(actual, str) else None
            wanted = parse_timestamp(term.value.text)
            return when is not None and wanted is not None and _OPS[term.op](when, wanted)
        if actual is None:
            return term.op == "!="
        return _OPS[term.op](str(actual), term.value.text)
    labels = lookup(term.field[:1]) or {}
    key = term.field[1] if len(term.field) > 1 else None
    if isinstance(term, Has):
        if key is None:
            return term.value.text in labels if term.value.text != "*" else bool(labels)
        return key in labels if term.value.text == "*" else labels.get(key) == term.value.text
    assert key is not None, "check_fields admits only single-label comparisons"
    actual_label = labels.get(key)
    if actual_label is None:
        return term.op == "!="
    return _OPS[term.op](actual_label, term.value.text)
