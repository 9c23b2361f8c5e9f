"""The OpenAPI 3.1 document, generated from the same HTTP bindings the transcoder serves.

OpenAPI paths cannot express a variable that spans segments
(`{name=clusters/*/namespaces/*}`), so each `*` in a variable becomes its own
path parameter named after the collection before it (`clusters/{cluster}`),
and the operation says how they compose the request field. Query parameters
are the request's remaining scalar fields, dotted for nested messages
(`page.size`), named as the JSON mapping names them.

Every operation lists the error statuses it can answer (AIP-193 mapping of
the google.rpc codes, `server.api.errors.HTTP_STATUS`), each a shared
component response with the `{"error": …}` body, so a client generated from
the document knows which failures to expect where.
"""

from __future__ import annotations

import re
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.rpc import code_pb2

from server.api.rest.fields import is_map, is_message, is_repeated, is_scalar_json, is_traversable, message_of
from server.api.rest.http_rules import HttpBinding
from server.api.rest.openapi_schemas import ANY_SCHEMA, Schema, SchemaRegistry, ref
from server.api.rest.path_template import Variable
from server.api.rest.responses import JSON_TYPE, NDJSON_TYPE

OPENAPI_VERSION = "3.1.0"
ERROR_SCHEMA = "ErrorResponse"


def openapi_document(bindings: list[HttpBinding], *, title: str = "Harrow API", version: str = "v1") -> Schema:
    registry = SchemaRegistry()
    paths: dict[str, dict[str, Any]] = {}
    for binding in bindings:
        path, path_parameters = _openapi_path(binding)
        operation = _operation(binding, path_parameters, registry)
        paths.setdefault(path, {})[binding.http_method.lower()] = operation
    registry.schemas[ERROR_SCHEMA] = _error_schema()
    used = sorted({status for item in paths.values() for op in item.values() for status in op["responses"]} - {"200"})
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(registry.schemas.items())),
            "responses": {_ERROR_RESPONSE_NAMES[status]: _error_response(status) for status in used},
        },
    }


def _openapi_path(binding: HttpBinding) -> tuple[str, list[Schema]]:
    parts: list[str] = []
    parameters: list[Schema] = []
    used: set[str] = set()
    for segment in binding.template.segments:
        if not isinstance(segment, Variable):
            parts.append(segment)
            continue
        field_name = _json_path(binding.method.input_type, segment.field_path)
        pieces: list[str] = []
        previous = ""
        for piece in segment.segments:
            if piece in ("*", "**"):
                name = _unique(_singular(previous) if previous else field_name, used)
                pieces.append("{" + name + "}")
                parameters.append(_path_parameter(name, field_name, segment, piece == "**"))
            else:
                pieces.append(piece)
            previous = piece
        parts.append("/".join(pieces))
    verb = f":{binding.template.verb}" if binding.template.verb else ""
    return "/" + "/".join(parts) + verb, parameters


def _path_parameter(name: str, field_name: str, variable: Variable, multi: bool) -> Schema:
    pattern = "/".join(variable.segments)
    what = "one or more segments" if multi else "one segment"
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"{what.capitalize()} of `{field_name}` (`{pattern}`).",
        "schema": {"type": "string"},
    }


def _operation(binding: HttpBinding, path_parameters: list[Schema], registry: SchemaRegistry) -> Schema:
    method = binding.method
    request_type: Descriptor = method.input_type
    service_name: str = method.containing_service.name
    operation: Schema = {
        "operationId": f"{service_name}_{method.name}",
        "tags": [service_name],
        "summary": method.name,
        "parameters": path_parameters + _query_parameters(binding, registry),
    }
    if binding.body == "*":
        bound = tuple(path[0] for path in binding.path_fields if len(path) == 1)
        operation["requestBody"] = _json_body(registry.object_schema(request_type, exclude=bound))
    elif binding.body:
        operation["requestBody"] = _json_body(registry.field(request_type.fields_by_name[binding.body]))
    response = registry.message(method.output_type)
    if method.server_streaming:
        ok = {
            "description": "A stream of messages, one JSON object per line; a failure after the first "
            'line is a last line `{"error": {...}}`.',
            "content": {NDJSON_TYPE: {"schema": response}},
        }
    else:
        ok = {"description": "OK", "content": {JSON_TYPE: {"schema": response}}}
    operation["responses"] = {"200": ok} | {
        status: {"$ref": f"#/components/responses/{_ERROR_RESPONSE_NAMES[status]}"}
        for status in _error_statuses(binding, path_parameters)
    }
    return operation


# HTTP status → the google.rpc codes that answer with it (server.api.errors.HTTP_STATUS) and when.
_ERRORS: dict[str, str] = {
    "400": "INVALID_ARGUMENT (bad input; `BadRequest` names each field), FAILED_PRECONDITION (refused in the "
    "resource's current state) or OUT_OF_RANGE.",
    "401": "UNAUTHENTICATED: no valid credentials.",
    "403": "PERMISSION_DENIED: the caller may not do this.",
    "404": "NOT_FOUND: the named resource (or its parent) does not exist.",
    "409": "ABORTED (the etag no longer matches: read again and retry) or ALREADY_EXISTS.",
    "413": "RESOURCE_EXHAUSTED: the request body is over 4 MiB.",
    "429": "RESOURCE_EXHAUSTED: a limit was reached; retry later.",
    "500": "INTERNAL or UNKNOWN: a server fault; the message says nothing more.",
    "503": "UNAVAILABLE: the database is unreachable; retry after the `RetryInfo` delay.",
    "default": "Any other google.rpc.Status.",
}
_ERROR_RESPONSE_NAMES = {status: "Error" if status == "default" else f"Error{status}" for status in _ERRORS}


def _error_statuses(binding: HttpBinding, path_parameters: list[Schema]) -> list[str]:
    statuses = ["400", "401", "403"]
    if path_parameters:
        statuses.append("404")
    if binding.http_method != "GET":
        statuses.append("409")
    if binding.body:
        statuses.append("413")
    return [*statuses, "429", "500", "503", "default"]


def _error_response(status: str) -> Schema:
    return {"description": _ERRORS[status], "content": {JSON_TYPE: {"schema": ref(ERROR_SCHEMA)}}}


def _json_body(schema: Schema) -> Schema:
    return {"required": True, "content": {JSON_TYPE: {"schema": schema}}}


def _query_parameters(binding: HttpBinding, registry: SchemaRegistry) -> list[Schema]:
    if binding.body == "*":
        return []
    parameters: list[Schema] = []
    excluded = set(binding.path_fields)

    def walk(descriptor: Descriptor, prefix: tuple[FieldDescriptor, ...], seen: frozenset[str]) -> None:
        for field in descriptor.fields:
            path = (*prefix, field)
            names = tuple(f.name for f in path)
            if names in excluded or names[0] == binding.body:
                continue
            if is_traversable(field):
                child = message_of(field)
                if child.full_name not in seen:
                    walk(child, path, seen | {child.full_name})
            elif is_scalar_json(field) and not is_map(field):
                schema = registry.single_value(field)
                if is_repeated(field):
                    schema = {"type": "array", "items": schema}
                name = ".".join(f.json_name for f in path)
                parameters.append({"name": name, "in": "query", "schema": schema})

    walk(binding.method.input_type, (), frozenset({binding.method.input_type.full_name}))
    return parameters


def _error_schema() -> Schema:
    return {
        "type": "object",
        "description": "AIP-193 error: a google.rpc.Status in JSON.",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "status"],
                "properties": {
                    "code": {"type": "integer", "format": "int32", "description": "The HTTP status."},
                    "message": {"type": "string"},
                    "status": {"type": "string", "enum": list(code_pb2.Code.keys())},
                    "details": {"type": "array", "items": ANY_SCHEMA},
                },
            }
        },
    }


def _json_path(descriptor: Descriptor, field_path: tuple[str, ...]) -> str:
    names = []
    for name in field_path:
        field = descriptor.fields_by_name[name]
        names.append(field.json_name)
        if is_message(field):
            descriptor = message_of(field)
    return ".".join(names)


def _singular(collection: str) -> str:
    if collection.endswith("ies"):
        return collection[:-3] + "y"
    if collection.endswith("s"):
        return collection[:-1]
    return collection + "Id"


def _unique(name: str, used: set[str]) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    candidate, number = name, 2
    while candidate in used:
        candidate, number = f"{name}{number}", number + 1
    used.add(candidate)
    return candidate
