"""HTTP request parts → one request message, following one google.api.http rule.

Query parameters are gathered into a proto3 JSON document and parsed by the
same `json_format` call as the body, so both accept exactly the values the
JSON mapping accepts and both report bad values the same way: as a
BadRequest field violation whose path is built from the parser's own error
(`virtual_machine.spec.cpu.cores`). Path variables are set last, so the URL
wins over anything the body says about the same field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from multidict import MultiMapping

from server.api.rest.fields import (
    descriptor_of,
    field_by_any_name,
    is_bool_json,
    is_map,
    is_message,
    is_repeated,
    is_scalar_json,
    is_traversable,
    message_of,
)
from server.domain.errors import FieldViolation, InvalidArgument

_FAILED_FIELD = re.compile(r"Failed to parse (\S+) field: ")
_UNKNOWN_FIELD = re.compile(r'Message type "[^"]*" has no field named "([^"]*)" at "([^"]*)"')
_AT_PATH = re.compile(r' at "?([\w.\[\]]+)"?$')
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


class RequestBinding:
    """Builds request messages of one type for one HTTP rule; everything per-type is computed here once."""

    def __init__(self, message_class: type[Message], path_fields: Sequence[tuple[str, ...]], body: str) -> None:
        self._message_class = message_class
        self._descriptor = descriptor_of(message_class)
        self._body = body
        self._path_fields = frozenset(path_fields)
        self._path_setters = [self._path_setter(path) for path in path_fields]
        if body not in ("", "*") and body not in self._descriptor.fields_by_name:
            raise ValueError(f"body field {body!r} is not a field of {self._descriptor.full_name}")

    @property
    def has_body(self) -> bool:
        return bool(self._body)

    def build(self, path_values: Sequence[str], query: MultiMapping[str], body: bytes) -> Message:
        message = self._message_class()
        if query:
            _parse_into(self._query_document(query), message)
        if self._body and body:
            document = _load_json(body)
            if self._body == "*":
                if not isinstance(document, dict):
                    raise InvalidArgument("the request body must be a JSON object")
                _parse_into(document, message)
            else:
                _parse_into({self._body: document}, message)
        for (parents, leaf), value in zip(self._path_setters, path_values, strict=True):
            target = message
            for name in parents:
                target = getattr(target, name)
            setattr(target, leaf, value)
        return message

    def _path_setter(self, path: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        descriptor = self._descriptor
        for index, name in enumerate(path):
            field = descriptor.fields_by_name.get(name)
            if field is None:
                raise ValueError(f"{'.'.join(path)} is not a field of {self._descriptor.full_name}")
            if index < len(path) - 1:
                if not is_traversable(field):
                    raise ValueError(f"{'.'.join(path)}: {name} is not a singular message field")
                descriptor = message_of(field)
            elif field.type != FieldDescriptor.TYPE_STRING or is_repeated(field):
                raise ValueError(f"path variable {'.'.join(path)} must bind a singular string field")
        return path[:-1], path[-1]

    def _query_document(self, query: MultiMapping[str]) -> dict[str, Any]:
        document: dict[str, Any] = {}
        violations: list[FieldViolation] = []
        for key, text in query.items():
            try:
                fields = self._query_fields(key)
            except _QueryKeyError as error:
                violations.append(FieldViolation(error.field, error.description))
                continue
            node = document
            for field in fields[:-1]:
                node = node.setdefault(field.name, {})
            leaf = fields[-1]
            path = ".".join(field.name for field in fields)
            try:
                value = _query_value(leaf, text)
            except ValueError as error:
                violations.append(FieldViolation(path, str(error)))
                continue
            if is_repeated(leaf):
                node.setdefault(leaf.name, []).append(value)
            elif leaf.name in node:
                violations.append(FieldViolation(path, "given more than once"))
            else:
                node[leaf.name] = value
        if violations:
            raise InvalidArgument.of(violations)
        return document

    def _query_fields(self, key: str) -> list[FieldDescriptor]:
        if self._body == "*":
            raise _QueryKeyError(key, "no query parameters are accepted: every field comes from the body")
        fields: list[FieldDescriptor] = []
        descriptor = self._descriptor
        parts = key.split(".")
        for index, part in enumerate(parts):
            field = field_by_any_name(descriptor, part)
            if field is None:
                raise _QueryKeyError(key, "unknown query parameter")
            fields.append(field)
            if index < len(parts) - 1:
                if not is_traversable(field):
                    raise _QueryKeyError(key, f"{part} has no fields that can be set from a query parameter")
                descriptor = message_of(field)
        leaf = fields[-1]
        if is_map(leaf) or not is_scalar_json(leaf):
            raise _QueryKeyError(key, "cannot be set from a query parameter")
        path = tuple(field.name for field in fields)
        if path[0] == self._body:
            raise _QueryKeyError(key, "is set by the request body")
        if path in self._path_fields:
            raise _QueryKeyError(key, "is set by the URL path")
        return fields


class _QueryKeyError(Exception):
    def __init__(self, field: str, description: str) -> None:
        super().__init__(description)
        self.field = field
        self.description = description


def _query_value(field: FieldDescriptor, text: str) -> Any:
    if is_bool_json(field):
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f'expected "true" or "false", got {text!r}')
    if is_message(field) and message_of(field).full_name == "google.protobuf.FieldMask":
        # The JSON form is lowerCamelCase; accept snake_case paths too.
        return ",".join(_camel_path(path) for path in text.split(","))
    return text


def _camel_path(path: str) -> str:
    return ".".join(re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), part) for part in path.split("."))


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:
        raise InvalidArgument(f"the request body is not valid JSON: {error}") from None


def _parse_into(document: Any, message: Message) -> None:
    try:
        json_format.ParseDict(document, message)
    except json_format.ParseError as error:
        raise InvalidArgument.of([violation_from_parse_error(error, descriptor_of(type(message)))]) from None


def violation_from_parse_error(error: json_format.ParseError, descriptor: Descriptor) -> FieldViolation:
    """The field path and reason inside json_format's nested message, as proto field names."""
    text = str(error)
    chain: list[str] = []
    while found := _FAILED_FIELD.match(text):
        chain.append(found.group(1))
        text = text[found.end() :]
    text = text.split("\n", 1)[0].rstrip(".")
    unknown = _UNKNOWN_FIELD.search(text)
    if unknown is not None:
        parent = unknown.group(2).split(".")[1:]
        return FieldViolation(_proto_path([*parent, unknown.group(1)], descriptor), "unknown field")
    located = _AT_PATH.search(text)
    if located is not None:
        path = located.group(1).split(".")[1:]
        description = text[: located.start()].rstrip(".")
    else:
        path = chain
        description = text
    return FieldViolation(_proto_path(path, descriptor), description or "invalid value")


def _proto_path(parts: Sequence[str], descriptor: Descriptor) -> str:
    """JSON or proto names → proto names, as far as the path names real fields."""
    names: list[str] = []
    current: Descriptor | None = descriptor
    for part in parts:
        name, bracket, index = part.partition("[")
        field = field_by_any_name(current, name) if current is not None else None
        if field is None:
            names.append(part)
            current = None
            continue
        names.append(field.name + bracket + index)
        current = message_of(field) if is_message(field) and not is_map(field) else None
    return ".".join(names)
