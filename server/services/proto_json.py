"""Stored proto3 JSON back into messages, faster than `json_format.ParseDict` and with the same result.

Specs and statuses are stored as `json_format.MessageToDict(..., preserving_proto_field_name=True)`
wrote them, and a Get turns them back into messages on every call. `ParseDict` is pure Python that
re-derives every field's handling per value; here each message type gets a plan once (proto field
name -> how to set it), and a document in exactly the shape MessageToDict writes is set through it.
Anything else (JSON names, nulls, numbers written as strings where MessageToDict writes numbers,
floats, bytes, two members of one oneof, an unknown field or enum name) is handed to `ParseDict`
itself, so the result, or the error, is always the one `ParseDict` gives. Fields of a well-known
type (Struct, Timestamp, ...) are always parsed by it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

_INTEGERS = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_FIXED32,
    }
)
# MessageToDict writes 64-bit integers as decimal strings.
_INTEGERS_64 = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_SFIXED64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
    }
)
_WELL_KNOWN_PREFIX = "google.protobuf."


class _Unusual(Exception):
    """The document is not in MessageToDict's shape: ParseDict decides."""


# Turns one JSON value into what the field is set to (a scalar), or raises _Unusual.
Scalar = Callable[[Any], Any]
# Writes one JSON value into a message's field, or raises _Unusual.
Setter = Callable[[Message, Any], None]


_FALL_BACK = (_Unusual, TypeError, ValueError, json_format.ParseError)


def parse_into(document: dict[str, Any], message: Message) -> None:
    """`json_format.ParseDict(document, message)` for an empty message of its own or repeated field element."""
    try:
        _fill(message, document)
    except _FALL_BACK:
        message.Clear()
        json_format.ParseDict(document, message)


def parse_field(document: dict[str, Any], parent: Message, name: str) -> None:
    """`json_format.ParseDict(document, getattr(parent, name))` for an unset singular message field.

    Before a fallback the field is cleared in `parent`: clearing the sub-message itself would leave it
    set where ParseDict may not set it (`{"disks": []}` sets no field)."""
    try:
        _fill(getattr(parent, name), document)
    except _FALL_BACK:
        parent.ClearField(name)
        json_format.ParseDict(document, getattr(parent, name))


def _fill(message: Message, document: Any) -> None:
    if type(document) is not dict:
        raise _Unusual
    setters, oneofs = _plan(cast(Descriptor, message.DESCRIPTOR))
    seen: set[str] | None = None
    for key, value in document.items():
        setter = setters.get(key)
        if setter is None or value is None:
            raise _Unusual
        oneof = oneofs.get(key)
        if oneof is not None:
            if seen is None:
                seen = set()
            elif oneof in seen:
                raise _Unusual  # ParseDict refuses two members of one oneof
            seen.add(oneof)
        setter(message, value)


_PLANS: dict[Descriptor, tuple[dict[str, Setter], dict[str, str]]] = {}


def _plan(descriptor: Descriptor) -> tuple[dict[str, Setter], dict[str, str]]:
    plan = _PLANS.get(descriptor)
    if plan is None:
        setters = {field.name: _setter(field) for field in descriptor.fields}
        oneofs = {
            field.name: field.containing_oneof.name for field in descriptor.fields if field.containing_oneof is not None
        }
        plan = _PLANS[descriptor] = (setters, oneofs)
    return plan


def _setter(field: FieldDescriptor) -> Setter:
    name = field.name
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        entry = field.message_type
        assert entry is not None
        if entry.GetOptions().map_entry:
            return _map_setter(name, entry)
        if entry.full_name.startswith(_WELL_KNOWN_PREFIX):
            return _unusual if field.is_repeated else _well_known_setter(name)
        if field.is_repeated:

            def repeated_messages(message: Message, value: Any) -> None:
                if type(value) is not list:
                    raise _Unusual
                message.ClearField(name)  # as ParseDict does: it sets a sub-message even for []
                container = getattr(message, name)
                for item in value:
                    _fill(container.add(), item)

            return repeated_messages

        def singular_message(message: Message, value: Any) -> None:
            child = getattr(message, name)
            child.SetInParent()
            _fill(child, value)

        return singular_message
    scalar = _scalar(field)
    if field.is_repeated:

        def repeated_scalars(message: Message, value: Any) -> None:
            if type(value) is not list:
                raise _Unusual
            message.ClearField(name)
            getattr(message, name).extend([scalar(item) for item in value])

        return repeated_scalars

    def singular_scalar(message: Message, value: Any) -> None:
        setattr(message, name, scalar(value))

    return singular_scalar


def _well_known_setter(name: str) -> Setter:
    def well_known(message: Message, value: Any) -> None:
        child = getattr(message, name)
        child.SetInParent()
        json_format.ParseDict(value, child)  # as ParseDict does; on an error, the whole document goes to it

    return well_known


def _map_setter(name: str, entry: Descriptor) -> Setter:
    key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
    if key_field.type != FieldDescriptor.TYPE_STRING or value_field.type == FieldDescriptor.TYPE_MESSAGE:
        return _unusual
    scalar = _scalar(value_field)

    def map_entries(message: Message, value: Any) -> None:
        if type(value) is not dict:
            raise _Unusual
        message.ClearField(name)
        getattr(message, name).update({key: scalar(item) for key, item in value.items()})

    return map_entries


def _scalar(field: FieldDescriptor) -> Scalar:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return _exactly(str)
    if kind == FieldDescriptor.TYPE_BOOL:
        return _exactly(bool)
    if kind in _INTEGERS:
        return _exactly(int)
    if kind in _INTEGERS_64:
        return _decimal
    if kind == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        numbers = {value.name: value.number for value in field.enum_type.values}

        def enum_number(value: Any) -> int:
            if type(value) is not str or value not in numbers:
                raise _Unusual
            return numbers[value]

        return enum_number
    return _unusual  # floats and bytes: ParseDict's special values and base64 are its own business


def _exactly(kind: type) -> Scalar:
    def same(value: Any) -> Any:
        if type(value) is not kind:
            raise _Unusual
        return value

    return same


def _decimal(value: Any) -> int:
    if type(value) is not str or not (value.isdigit() or (value[:1] == "-" and value[1:].isdigit())):
        raise _Unusual
    return int(value)


def _unusual(*_: Any) -> Any:
    raise _Unusual


# --- messages to proto3 JSON ----------------------------------------------------------------------

# Turns one set field's value into its JSON value, or raises _Unusual.
Printer = Callable[[Any], Any]


def message_to_dict(message: Message) -> dict[str, Any]:
    """`json_format.MessageToDict(message)` (default options: JSON names, enum names, int64 as strings).

    Each field set is printed through a plan made once per message type. Floats (their special values
    and shortest forms), bytes, enums whose values carry options, extensions and well-known types at
    the top are left to MessageToDict; a field of a well-known type is printed by it."""
    try:
        return _print(message)
    except _Unusual:
        return json_format.MessageToDict(message)


def _print(message: Message) -> dict[str, Any]:
    plan = _print_plan(cast(Descriptor, message.DESCRIPTOR))
    document: dict[str, Any] = {}
    for field, value in message.ListFields():
        entry = plan.get(field)
        if entry is None:
            raise _Unusual  # an extension
        name, printer = entry
        document[name] = printer(value)
    return document


_PRINT_PLANS: dict[Descriptor, dict[FieldDescriptor, tuple[str, Printer]]] = {}


def _print_plan(descriptor: Descriptor) -> dict[FieldDescriptor, tuple[str, Printer]]:
    plan = _PRINT_PLANS.get(descriptor)
    if plan is None:
        if descriptor.full_name.startswith(_WELL_KNOWN_PREFIX):
            raise _Unusual
        plan = _PRINT_PLANS[descriptor] = {
            field: (field.json_name, _field_printer(field)) for field in descriptor.fields
        }
    return plan


def _field_printer(field: FieldDescriptor) -> Printer:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        entry = field.message_type
        assert entry is not None
        if entry.GetOptions().map_entry:
            return _map_printer(entry)
        if entry.full_name in _JSON_STRING_TYPES:
            single: Printer = _json_string
        elif entry.full_name.startswith(_WELL_KNOWN_PREFIX):
            single = _well_known_print
        else:
            single = _print
    else:
        single = _scalar_printer(field)
    if field.is_repeated:
        return lambda values: [single(value) for value in values]
    return single


def _map_printer(entry: Descriptor) -> Printer:
    key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
    if key_field.type == FieldDescriptor.TYPE_BOOL:
        return _unusual
    single = _field_printer(value_field)
    return lambda entries: {str(key): single(entries[key]) for key in entries}


# Printed as their ToJsonString(), which is all json_format does with them.
_JSON_STRING_TYPES = frozenset({"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"})


def _json_string(message: Any) -> str:
    return str(message.ToJsonString())


def _well_known_print(message: Message) -> Any:
    return json_format.MessageToDict(message)


def _scalar_printer(field: FieldDescriptor) -> Printer:
    kind = field.type
    if kind in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BOOL) or kind in _INTEGERS:
        return _same
    if kind in _INTEGERS_64:
        return str
    if kind == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        if any(value.GetOptions().ListFields() for value in field.enum_type.values):
            return _unusual  # an option may rename a value in JSON: json_format knows how
        names = {value.number: value.name for value in field.enum_type.values}
        closed = field.enum_type.is_closed

        def enum_name(value: int) -> Any:
            name = names.get(value)
            if name is None:
                if closed:
                    raise _Unusual  # MessageToDict refuses it
                return value
            return name

        return enum_name
    return _unusual  # floats and bytes


def _same(value: Any) -> Any:
    return value
