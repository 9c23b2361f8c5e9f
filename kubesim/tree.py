"""Copying the JSON trees the store holds.

Objects in the store are what JSON decoding produces (dicts, lists, strings,
numbers, booleans, None), so a copy only needs to rebuild dicts and lists.
``copy.deepcopy`` does the same job through its memo and type dispatch at
about four times the cost, and copying is most of what the store does per
write; strings, numbers, booleans and None are immutable and are shared.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar, cast

T = TypeVar("T")


def clone(value: T) -> T:
    """An independent copy of a JSON tree: every dict and list is new, scalars are shared."""
    return cast(T, _clone(value))


def _clone(value: Any) -> Any:
    if type(value) is dict:
        return {k: _clone(v) for k, v in value.items()}
    if type(value) is list:
        return [_clone(v) for v in value]
    if isinstance(value, dict | list | tuple | set):
        # Not plain JSON (a subclass, a tuple holding lists): keep deepcopy's guarantees for it.
        return copy.deepcopy(value)
    return value
