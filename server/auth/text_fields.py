"""Strings PostgreSQL cannot hold: a NUL character anywhere in a request is refused up front, naming the field.

PostgreSQL's text and jsonb types cannot store U+0000, so such a value would
otherwise fail deep inside a transaction as INTERNAL. Kubernetes would take
one in an annotation, but Harrow must store what it sends, so the request is
refused with the field's path (`virtual_machine.annotations["note"]`), the way
every other bad value is. Bytes fields are not text and are left alone.
"""

from __future__ import annotations

import json

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from server.domain.errors import FieldViolation

_NUL = "\x00"
_DESCRIPTION = "must not contain NUL (U+0000) characters"


def nul_violations(message: Message) -> list[FieldViolation]:
    # Nearly every request serializes without a single zero byte: then there is no NUL to look for.
    return _walk(message, "") if b"\x00" in message.SerializeToString() else []


def _walk(message: Message, prefix: str) -> list[FieldViolation]:
    violations: list[FieldViolation] = []
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            for key, item in value.items():
                entry = f"{path}[{json.dumps(str(key), ensure_ascii=False)}]"
                if isinstance(key, str) and _NUL in key:
                    violations.append(FieldViolation(entry, "key " + _DESCRIPTION))
                if value_field.type == FieldDescriptor.TYPE_STRING and _NUL in item:
                    violations.append(FieldViolation(entry, _DESCRIPTION))
                elif value_field.message_type is not None:
                    violations.extend(_walk(item, f"{entry}."))
        elif field.type == FieldDescriptor.TYPE_STRING:
            items = value if field.is_repeated else [value]
            for index, item in enumerate(items):
                if _NUL in item:
                    at = f"{path}[{index}]" if field.is_repeated else path
                    violations.append(FieldViolation(at, _DESCRIPTION))
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                for index, item in enumerate(value):
                    violations.extend(_walk(item, f"{path}[{index}]."))
            else:
                violations.extend(_walk(value, f"{path}."))
    return violations
