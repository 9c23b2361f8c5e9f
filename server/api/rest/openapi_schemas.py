"""OpenAPI 3.1 (JSON Schema 2020-12) schemas for proto messages, in their proto3 JSON form.

Schemas describe what goes over the wire, not the proto: 64-bit integers are
strings, enums are their names, bytes are base64, well-known types take their
JSON shapes (Timestamp → date-time string, FieldMask → string, Struct →
object, wrappers → the wrapped type or null, …). Each message and enum
becomes one component named by its full proto name, added the first time it
is referenced, so recursive types terminate. JSON Schema 2020-12 lets `$ref`
have siblings, so an output-only message field is `{"$ref", "readOnly"}`.
"""

from __future__ import annotations

from typing import Any

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from server.api.rest.fields import SCALAR_WRAPPERS, enum_of, is_map, is_repeated, message_of

Schema = dict[str, Any]

_F = FieldDescriptor
_SCALARS: dict[int, Schema] = {
    _F.TYPE_DOUBLE: {"type": "number", "format": "double"},
    _F.TYPE_FLOAT: {"type": "number", "format": "float"},
    _F.TYPE_INT32: {"type": "integer", "format": "int32"},
    _F.TYPE_SINT32: {"type": "integer", "format": "int32"},
    _F.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    _F.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0},
    _F.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0},
    _F.TYPE_INT64: {"type": "string", "format": "int64"},
    _F.TYPE_SINT64: {"type": "string", "format": "int64"},
    _F.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    _F.TYPE_UINT64: {"type": "string", "format": "uint64"},
    _F.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    _F.TYPE_BOOL: {"type": "boolean"},
    _F.TYPE_STRING: {"type": "string"},
    _F.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
ANY_SCHEMA: Schema = {
    "type": "object",
    "description": "Any message, with its type URL in `@type`.",
    "properties": {"@type": {"type": "string"}},
    "required": ["@type"],
    "additionalProperties": True,
}
_WELL_KNOWN: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": "Comma-separated field paths, e.g. `spec.memory,labels`.",
    },
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": ANY_SCHEMA,
}
_WRAPPED_TYPES = {
    "DoubleValue": _F.TYPE_DOUBLE,
    "FloatValue": _F.TYPE_FLOAT,
    "Int64Value": _F.TYPE_INT64,
    "UInt64Value": _F.TYPE_UINT64,
    "Int32Value": _F.TYPE_INT32,
    "UInt32Value": _F.TYPE_UINT32,
    "BoolValue": _F.TYPE_BOOL,
    "StringValue": _F.TYPE_STRING,
    "BytesValue": _F.TYPE_BYTES,
}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


class SchemaRegistry:
    def __init__(self) -> None:
        self.schemas: dict[str, Schema] = {}

    def message(self, descriptor: Descriptor) -> Schema:
        """A reference to (or, for well-known types, the inline form of) a message's schema."""
        full_name: str = descriptor.full_name
        if full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[full_name])
        if full_name in SCALAR_WRAPPERS:
            wrapped = _SCALARS[_WRAPPED_TYPES[descriptor.name]]
            return {**wrapped, "type": [wrapped["type"], "null"]}
        if full_name not in self.schemas:
            self.schemas[full_name] = {}
            self.schemas[full_name] = self.object_schema(descriptor, exclude=())
        return ref(full_name)

    def object_schema(self, descriptor: Descriptor, exclude: tuple[str, ...]) -> Schema:
        properties = {field.json_name: self.field(field) for field in descriptor.fields if field.name not in exclude}
        return {"type": "object", "properties": properties}

    def field(self, field: FieldDescriptor) -> Schema:
        if is_map(field):
            value = message_of(field).fields_by_name["value"]
            return {"type": "object", "additionalProperties": self.single_value(value)}
        schema = self.single_value(field)
        if is_repeated(field):
            schema = {"type": "array", "items": schema}
        behaviors = field.GetOptions().Extensions[field_behavior_pb2.field_behavior]
        if field_behavior_pb2.OUTPUT_ONLY in behaviors:
            schema = {**schema, "readOnly": True}
        return schema

    def single_value(self, field: FieldDescriptor) -> Schema:
        if field.type == _F.TYPE_MESSAGE:
            return self.message(message_of(field))
        if field.type == _F.TYPE_ENUM:
            return self.enum(enum_of(field))
        return dict(_SCALARS[field.type])

    def enum(self, descriptor: EnumDescriptor) -> Schema:
        full_name: str = descriptor.full_name
        if full_name == "google.protobuf.NullValue":
            return {"type": "null"}
        if full_name not in self.schemas:
            self.schemas[full_name] = {"type": "string", "enum": [value.name for value in descriptor.values]}
        return ref(full_name)
