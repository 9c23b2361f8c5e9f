"""Label and field selectors parsed with the apiserver's grammar.

A selector the real server would refuse must be refused here too (400), so a
typo in a reconciler's selector fails in tests rather than listing everything.
Only ``metadata.name`` and ``metadata.namespace`` field selectors exist, as on
a CRD (plus ``spec.nodeName``/``status.phase`` style paths resolved
generically, which the real server allows for pods).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import ApiError

Predicate = Callable[[dict[str, Any]], bool]

_SET_RE = re.compile(r"^\s*(!?)([A-Za-z0-9_./-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_.-]*)\s*$")


def _split(expr: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in expr:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def _term(term: str) -> Callable[[dict[str, str]], bool]:
    eq = _EQ_RE.match(term)
    if eq:
        key, op, val = eq.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != val
        return lambda labels: labels.get(key) == val
    st = _SET_RE.match(term)
    if st:
        neg, key, op, values = st.groups()
        if op:
            if neg:
                raise ApiError(400, f"unable to parse requirement: {term!r}")
            vals = {v.strip() for v in values.split(",") if v.strip()}
            if op == "in":
                return lambda labels: labels.get(key) in vals
            return lambda labels: labels.get(key) not in vals
        if neg:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise ApiError(400, f"unable to parse requirement: found '{term.strip()}', expected: in, notin, =, ==, !=, gt, lt")


def label_selector(expr: str | None) -> Predicate:
    if not expr:
        return lambda obj: True
    terms = [_term(t) for t in _split(expr)]

    def match(obj: dict[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(t(labels) for t in terms)

    return match


def _field(obj: dict[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return "" if cur is None else str(cur)


def field_selector(expr: str | None, allowed: set[str]) -> Predicate:
    if not expr:
        return lambda obj: True
    checks: list[tuple[str, str, str]] = []
    for term in _split(expr):
        m = _EQ_RE.match(term)
        if not m:
            raise ApiError(400, f"invalid selector: '{expr}'; can't understand '{term}'")
        key, op, val = m.groups()
        if key not in allowed:
            raise ApiError(400, f"field label not supported: {key}")
        checks.append((key, op, val))

    def match(obj: dict[str, Any]) -> bool:
        return all((_field(obj, k) == v) != (op == "!=") for k, op, v in checks)

    return match
