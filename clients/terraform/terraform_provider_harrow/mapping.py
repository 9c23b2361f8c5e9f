"""Terraform blocks ↔ Harrow's proto3 JSON, driven by the schema so each resource declares its shape once.

Attribute `boot_order` is JSON `bootOrder`; block `disk` is the list `disks`. Nothing is normalised:
values go out as written and come back as Harrow echoes them. Two things proto3 JSON does are
undone against what the user wrote (`prior`):
- zero values are left out of JSON, so a `boot_order = 0` or `labels = {}` comes back absent: an
  absent value where the user wrote a zero keeps the user's zero;
- a JSON-valued attribute (an affinity) comes back as parsed JSON: if it means what the user's
  string means, the user's string is kept.
A non-zero value always comes from Harrow, so real drift still shows.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tf.schema import Block
from tf.types import Number, String, Unknown

from terraform_provider_harrow.schema import ListBlock

# Where the JSON name is not the lowerCamelCase of the attribute name.
_JSON_NAMES = {
    "disk": "disks",
    "interface": "interfaces",
    "toleration": "tolerations",
    "range": "ranges",
    "scope": "scopes",
    "completion_timeout_per_gib": "completionTimeoutPerGiB",
    "claim_property_set": "claimPropertySets",
}


class JsonString(String):
    """A string attribute holding JSON (`jsonencode(…)`) that Harrow stores as a JSON object."""


def json_name(name: str) -> str:
    return _JSON_NAMES.get(name) or re.sub(r"_([a-z0-9])", lambda found: found.group(1).upper(), name)


def to_json(block: Block, value: dict[str, Any], presence: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The JSON object for `value` (state or plan) shaped by `block`, as proto3 JSON writes it: unset
    and zero values are left out, except attributes in `presence` (proto `optional`: false is not unset)."""
    document: dict[str, Any] = {}
    for attribute in block.attributes:
        item = value.get(attribute.name)
        if item is None or item is Unknown or (is_zero(item) and attribute.name not in presence):
            continue
        document[json_name(attribute.name)] = json.loads(item) if isinstance(attribute.type, JsonString) else item
    for nested in block.block_types:
        item = value.get(nested.type_name)
        if isinstance(nested, ListBlock):
            if item:
                document[json_name(nested.type_name)] = [to_json(nested.block, element) for element in item]
        elif item is not None and (inner := to_json(nested.block, item)):
            document[json_name(nested.type_name)] = inner
    return document


def from_json(block: Block, document: dict[str, Any] | None, prior: dict[str, Any] | None) -> dict[str, Any]:
    """State for `block` from Harrow's JSON, keeping the user's spelling where the JSON means the same."""
    document = document or {}
    prior = prior or {}
    value: dict[str, Any] = {}
    for attribute in block.attributes:
        item = document.get(json_name(attribute.name))
        before = prior.get(attribute.name)
        if isinstance(attribute.type, JsonString) and item is not None:
            item = before if _same_json(before, item) else json.dumps(item, sort_keys=True, separators=(",", ":"))
        elif isinstance(attribute.type, Number) and isinstance(item, str):
            item = int(item)
        value[attribute.name] = before if item is None and is_zero(before) else item
    for nested in block.block_types:
        item = document.get(json_name(nested.type_name))
        before = prior.get(nested.type_name)
        if isinstance(nested, ListBlock):
            earlier = before if isinstance(before, list) and len(before) == len(item or []) else []
            value[nested.type_name] = [
                from_json(nested.block, element, earlier[index] if earlier else None)
                for index, element in enumerate(item or [])
            ]
        elif item is None:
            value[nested.type_name] = before if is_zero(before) else None
        else:
            value[nested.type_name] = from_json(nested.block, item, before)
    return value


def keep_zero(item: Any, before: Any) -> Any:
    """Harrow's value, or the user's zero where Harrow left the value out."""
    return before if item is None and is_zero(before) else item


def is_zero(value: Any) -> bool:
    """What proto3 JSON leaves out: "", 0, false, {}, [], and a block whose attributes are all that."""
    if value is None or value is Unknown:
        return False
    if isinstance(value, dict):
        return all(item is None or is_zero(item) for item in value.values())
    if isinstance(value, list):
        return not value
    return bool(value in ("", 0, False))


def _same_json(text: Any, parsed: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        return bool(json.loads(text) == parsed)
    except ValueError:
        return False
