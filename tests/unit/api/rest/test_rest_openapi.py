from __future__ import annotations

import re
from typing import Any

import pytest
from google.protobuf import wrappers_pb2

from server.api.rest.http_rules import http_bindings
from server.api.rest.openapi import openapi_document
from server.api.rest.openapi_schemas import SchemaRegistry
from server.api.rest.transcoder import CONTRACT_MODULES
from tests.unit.api.rest.conftest import RestServer

CONTRACT_FILES = [module.DESCRIPTOR for module in CONTRACT_MODULES]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    services = [file.services_by_name[name] for file in CONTRACT_FILES for name in file.services_by_name]
    return openapi_document(http_bindings(services))


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")

    assert document["openapi"] == "3.1.0"
    validator.validate(document, cls=validator.OpenAPIV31SpecValidator)


def test_every_rpc_is_one_operation_with_declared_path_parameters(document: dict[str, Any]) -> None:
    operations = {
        operation["operationId"]: (path, method)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }

    rpcs = [m for f in CONTRACT_FILES for s in f.services_by_name.values() for m in s.methods]
    assert len(operations) == len(rpcs)
    assert operations["VirtualMachineService_GetVirtualMachine"] == (
        "/v1/clusters/{cluster}/namespaces/{namespace}/virtualMachines/{virtualMachine}",
        "get",
    )
    assert operations["VirtualMachineService_WatchVirtualMachines"] == (
        "/v1/clusters/{cluster}/namespaces/{namespace}/virtualMachines:watch",
        "get",
    )
    assert operations["OperationService_CancelOperation"] == ("/v1/operations/{operation}:cancel", "post")
    for path, item in document["paths"].items():
        for operation in item.values():
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"{([^}]+)}", path))


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    responses = document["components"]["responses"]

    for reference in refs(document):
        kind, _, name = reference.removeprefix("#/components/").partition("/")
        assert name in {"schemas": schemas, "responses": responses}[kind]


def test_query_parameters_bodies_and_responses(document: dict[str, Any]) -> None:
    vm_path = "/v1/clusters/{cluster}/namespaces/{namespace}/virtualMachines/{virtualMachine}"
    update = document["paths"][vm_path]["patch"]
    query = {p["name"]: p["schema"] for p in update["parameters"] if p["in"] == "query"}
    assert query == {
        "updateMask": {
            "type": "string",
            "description": "Comma-separated field paths, e.g. `spec.memory,labels`.",
        },
        "allowMissing": {"type": "boolean"},
        "validateOnly": {"type": "boolean"},
        "requestId": {"type": "string"},
    }
    body = update["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/harrow.v1.VirtualMachine"}
    ok = update["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/google.longrunning.Operation"}
    assert set(update["responses"]) == {"200", "400", "401", "403", "404", "409", "413", "429", "500", "503", "default"}
    conflict = document["components"]["responses"]["Error409"]
    assert "ABORTED" in conflict["description"]
    assert conflict["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    listing = document["paths"]["/v1/clusters"]["get"]["responses"]
    assert set(listing) == {
        "200",
        "400",
        "401",
        "403",
        "429",
        "500",
        "503",
        "default",
    }  # nothing named, nothing written

    start = document["paths"][vm_path + ":start"]["post"]
    start_body = start["requestBody"]["content"]["application/json"]["schema"]
    assert set(start_body["properties"]) == {"etag", "requestId"}
    assert [p for p in start["parameters"] if p["in"] == "query"] == []

    watch = document["paths"]["/v1/clusters/{cluster}/namespaces/{namespace}/virtualMachines:watch"]["get"]
    assert set(watch["responses"]["200"]["content"]) == {"application/x-ndjson"}


def test_message_schemas_follow_the_proto3_json_mapping(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    machine = schemas["harrow.v1.VirtualMachine"]["properties"]

    assert machine["labels"] == {"type": "object", "additionalProperties": {"type": "string"}}
    assert machine["createTime"] == {"type": "string", "format": "date-time", "readOnly": True}
    assert machine["generation"] == {"type": "string", "format": "int64", "readOnly": True}
    assert machine["state"] == {"$ref": "#/components/schemas/harrow.v1.VirtualMachine.State", "readOnly": True}
    assert machine["conditions"]["items"] == {"$ref": "#/components/schemas/harrow.v1.Condition"}
    assert schemas["harrow.v1.VirtualMachine.State"]["enum"][:2] == ["STATE_UNSPECIFIED", "STOPPED"]
    assert schemas["harrow.v1.Placement"]["properties"]["affinity"] == {
        "type": "object",
        "additionalProperties": True,
    }
    operation = schemas["google.longrunning.Operation"]["properties"]
    assert operation["response"]["properties"]["@type"] == {"type": "string"}
    assert schemas["harrow.v1.CpuTopology"]["properties"]["cores"] == {"type": "integer", "format": "int32"}


async def test_served_at_openapi_json(rest: RestServer) -> None:
    async with rest.session.get(rest("/openapi.json")) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        served = await response.json()

    assert served["openapi"] == "3.1.0"
    assert {op["operationId"] for item in served["paths"].values() for op in item.values()} == {
        f"VirtualMachineService_{name}"
        for name in (
            "GetVirtualMachine",
            "ListVirtualMachines",
            "CreateVirtualMachine",
            "AdoptVirtualMachine",
            "UpdateVirtualMachine",
            "DeleteVirtualMachine",
            "StartVirtualMachine",
            "StopVirtualMachine",
            "RestartVirtualMachine",
            "PauseVirtualMachine",
            "UnpauseVirtualMachine",
            "WatchVirtualMachines",
        )
    }


def test_wrappers_and_bytes_use_json_schema_2020_12_forms() -> None:
    registry = SchemaRegistry()
    assert registry.message(wrappers_pb2.Int32Value.DESCRIPTOR) == {"type": ["integer", "null"], "format": "int32"}
    assert registry.message(wrappers_pb2.BytesValue.DESCRIPTOR) == {
        "type": ["string", "null"],
        "contentEncoding": "base64",
    }
