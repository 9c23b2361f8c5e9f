"""Field lookups shared by request mapping, error paths and the OpenAPI walk.

REST callers may name a field by its proto name (`page_size`) or its JSON
name (`pageSize`); both resolve through one cached table per message type,
so no request walks a descriptor more than a dictionary lookup deep.
"""

from __future__ import annotations

from functools import cache
from typing import cast

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

# Well-known types whose proto3 JSON form is a single string, number or bool.
SCALAR_WRAPPERS = frozenset(
    f"google.protobuf.{name}"
    for name in (
        "DoubleValue",
        "FloatValue",
        "Int64Value",
        "UInt64Value",
        "Int32Value",
        "UInt32Value",
        "BoolValue",
        "StringValue",
        "BytesValue",
    )
)
STRING_WELL_KNOWN = frozenset({"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"})
WELL_KNOWN_PREFIX = "google.protobuf."


@cache
def _by_any_name(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    names = {field.json_name: field for field in descriptor.fields}
    names.update(descriptor.fields_by_name)
    return names


def field_by_any_name(descriptor: Descriptor, name: str) -> FieldDescriptor | None:
    return _by_any_name(descriptor).get(name)


def descriptor_of(message_class: type[Message]) -> Descriptor:
    return cast(Descriptor, message_class.DESCRIPTOR)


def message_of(field: FieldDescriptor) -> Descriptor:
    """The message type of a message field (the stubs allow None for every field)."""
    if field.message_type is None:
        raise TypeError(f"{field.full_name} is not a message field")
    return field.message_type


def enum_of(field: FieldDescriptor) -> EnumDescriptor:
    if field.enum_type is None:
        raise TypeError(f"{field.full_name} is not an enum field")
    return field.enum_type


def is_message(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE


def is_map(field: FieldDescriptor) -> bool:
    return is_message(field) and message_of(field).GetOptions().map_entry


def is_repeated(field: FieldDescriptor) -> bool:
    return field.is_repeated


def is_scalar_json(field: FieldDescriptor) -> bool:
    """Whether the field's JSON value is one string, number or bool (so it fits a query parameter)."""
    if not is_message(field):
        return True
    full_name = message_of(field).full_name
    return full_name in SCALAR_WRAPPERS or full_name in STRING_WELL_KNOWN


def is_bool_json(field: FieldDescriptor) -> bool:
    if is_message(field):
        return message_of(field).full_name == "google.protobuf.BoolValue"
    return field.type == FieldDescriptor.TYPE_BOOL


def is_traversable(field: FieldDescriptor) -> bool:
    """A singular, non-well-known message: its own fields can be named with a dotted path."""
    return (
        is_message(field) and not is_repeated(field) and not message_of(field).full_name.startswith(WELL_KNOWN_PREFIX)
    )
