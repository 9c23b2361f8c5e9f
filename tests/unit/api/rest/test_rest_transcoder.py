from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp import web
from harrow.v1 import virtual_machine_pb2 as vm

from server.api.rest import build_rest_app
from tests.unit.api.rest.conftest import MAX_BODY, PARENT, VM_NAME, RestServer


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "status", "details"}
    return error


def violations_of(error: dict[str, Any]) -> list[dict[str, str]]:
    [bad_request] = [d for d in error["details"] if d["@type"].endswith("google.rpc.BadRequest")]
    return list(bad_request["fieldViolations"])


async def test_get_returns_proto3_json_without_defaults(rest: RestServer) -> None:
    async with rest.session.get(rest(f"/v1/{VM_NAME}")) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        body = await response.json()

    assert body == {
        "name": VM_NAME,
        "labels": {"team": "db"},
        "generation": "7",
        "state": "RUNNING",
        "spec": {"memory": "4Gi", "runStrategy": "ALWAYS"},
    }
    assert rest.servicer.requests["Get"] == vm.GetVirtualMachineRequest(name=VM_NAME)


async def test_list_maps_query_parameters(rest: RestServer) -> None:
    query = "pageSize=10&page_token=abc&filter=state%20%3D%20RUNNING&orderBy=name"
    async with rest.session.get(rest(f"/v1/{PARENT}/virtualMachines?{query}")) as response:
        assert response.status == 200
        assert await response.json() == {"nextPageToken": "next"}

    assert rest.servicer.requests["List"] == vm.ListVirtualMachinesRequest(
        parent=PARENT, page_size=10, page_token="abc", filter="state = RUNNING", order_by="name"
    )


async def test_create_takes_the_body_field_and_query(rest: RestServer) -> None:
    body = {"labels": {"a": "b"}, "spec": {"memory": "1Gi", "cpu": {"cores": 2}, "runStrategy": "MANUAL"}}
    url = rest(f"/v1/{PARENT}/virtualMachines?virtualMachineId=vm1&validateOnly=true")
    async with rest.session.post(url, json=body) as response:
        assert response.status == 200
        assert await response.json() == {"name": "operations/create-1"}

    request = rest.servicer.requests["Create"]
    assert isinstance(request, vm.CreateVirtualMachineRequest)
    assert (request.parent, request.virtual_machine_id, request.validate_only) == (PARENT, "vm1", True)
    assert request.virtual_machine.spec.cpu.cores == 2
    assert request.virtual_machine.spec.run_strategy == vm.VirtualMachineSpec.MANUAL


async def test_update_with_nested_path_field_and_update_mask(rest: RestServer) -> None:
    url = rest(f"/v1/{VM_NAME}?updateMask=spec.memory,labels&allow_missing=false")
    async with rest.session.patch(url, json={"spec": {"memory": "8Gi"}}) as response:
        assert response.status == 200
        assert await response.json() == {"name": "operations/update-1", "done": True}

    request = rest.servicer.requests["Update"]
    assert isinstance(request, vm.UpdateVirtualMachineRequest)
    assert request.virtual_machine.name == VM_NAME
    assert list(request.update_mask.paths) == ["spec.memory", "labels"]


async def test_custom_verb_with_body_star(rest: RestServer) -> None:
    async with rest.session.post(rest(f"/v1/{VM_NAME}:start"), json={"etag": '"1"'}) as response:
        assert response.status == 200

    assert rest.servicer.requests["Start"] == vm.StartVirtualMachineRequest(name=VM_NAME, etag='"1"')


async def test_delete_with_empty_body_and_query(rest: RestServer) -> None:
    async with rest.session.delete(rest(f"/v1/{VM_NAME}?etag=%22e%22&allowMissing=true")) as response:
        assert response.status == 200

    assert rest.servicer.requests["Delete"] == vm.DeleteVirtualMachineRequest(
        name=VM_NAME, etag='"e"', allow_missing=True
    )


async def test_context_carries_metadata_peer_and_deadline(rest: RestServer) -> None:
    headers = {"Authorization": "Bearer t0k", "X-Request-Tag": "abc", "grpc-timeout": "30S"}
    async with rest.session.get(rest(f"/v1/{VM_NAME}"), headers=headers) as response:
        assert response.status == 200

    context = rest.servicer.contexts["Get"]
    assert context["metadata"]["authorization"] == "Bearer t0k"
    assert context["metadata"]["x-request-tag"] == "abc"
    assert context["peer"].startswith("ipv4:127.0.0.1:")
    assert 25 < context["time_remaining"] <= 30

    async with rest.session.get(rest(f"/v1/{VM_NAME}")) as response:
        assert response.status == 200
    assert rest.servicer.contexts["Get"]["time_remaining"] is None


async def test_deadline_is_enforced(rest: RestServer) -> None:
    async with rest.session.post(rest(f"/v1/{VM_NAME}:stop"), json={}, headers={"grpc-timeout": "100m"}) as response:
        assert response.status == 504
        assert error_of(await response.json())["status"] == "DEADLINE_EXCEEDED"

    async with rest.session.get(rest(f"/v1/{VM_NAME}"), headers={"grpc-timeout": "soon"}) as response:
        assert response.status == 400
        assert error_of(await response.json())["status"] == "INVALID_ARGUMENT"


async def test_domain_error_becomes_the_shared_error_body(rest: RestServer) -> None:
    async with rest.session.get(rest(f"/v1/{PARENT}/virtualMachines/missing")) as response:
        assert response.status == 404
        error = error_of(await response.json())

    assert error["status"] == "NOT_FOUND"
    assert error["code"] == 404
    assert error["details"] == [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "NOT_FOUND", "domain": "harrow.io"}
    ]


async def test_abort_gives_what_a_grpc_client_would_see(rest: RestServer) -> None:
    async with rest.session.get(rest(f"/v1/{PARENT}/virtualMachines/abort")) as response:
        assert response.status == 403
        assert error_of(await response.json()) == {
            "code": 403,
            "message": "not yours",
            "status": "PERMISSION_DENIED",
            "details": [],
        }

    async with rest.session.get(rest(f"/v1/{PARENT}/virtualMachines/abort-status")) as response:
        assert response.status == 400
        error = error_of(await response.json())
    assert error["status"] == "FAILED_PRECONDITION"
    assert error["message"] == "vm is running"
    assert error["details"][0]["reason"] == "VM_RUNNING"


async def test_unexpected_exception_is_logged_not_echoed(rest: RestServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="server.api.rest"):
        async with rest.session.get(rest(f"/v1/{PARENT}/virtualMachines/boom")) as response:
            assert response.status == 500
            text = await response.text()

    assert "secret" not in text
    assert error_of(await response.json())["status"] == "INTERNAL"
    assert any("GetVirtualMachine" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_unknown_query_parameter_and_body_field_are_invalid_argument(rest: RestServer) -> None:
    async with rest.session.get(rest(f"/v1/{PARENT}/virtualMachines?pageSize=1&colour=red")) as response:
        assert response.status == 400
        error = error_of(await response.json())
    assert error["status"] == "INVALID_ARGUMENT"
    assert violations_of(error) == [{"field": "colour", "description": "unknown query parameter"}]

    url = rest(f"/v1/{PARENT}/virtualMachines?virtualMachineId=vm1")
    async with rest.session.post(url, json={"spec": {"memroy": "1Gi"}}) as response:
        assert response.status == 400
        error = error_of(await response.json())
    assert violations_of(error) == [{"field": "virtual_machine.spec.memroy", "description": "unknown field"}]


async def test_malformed_json_is_invalid_argument(rest: RestServer) -> None:
    headers = {"Content-Type": "application/json"}
    async with rest.session.post(rest(f"/v1/{VM_NAME}:start"), data=b'{"etag":', headers=headers) as response:
        assert response.status == 400
        error = error_of(await response.json())
    assert error["status"] == "INVALID_ARGUMENT"
    assert "not valid JSON" in error["message"]


async def test_oversize_body_is_413_by_content_length_and_by_size_read(rest: RestServer) -> None:
    big = b'{"etag": "' + b"x" * MAX_BODY + b'"}'
    async with rest.session.post(rest(f"/v1/{VM_NAME}:start"), data=big) as response:
        assert response.status == 413
        error = error_of(await response.json())
    assert (error["code"], error["status"]) == (413, "RESOURCE_EXHAUSTED")

    async def chunks() -> Any:
        for _ in range(4):
            yield b" " * (MAX_BODY // 2)

    async with rest.session.post(rest(f"/v1/{VM_NAME}:start"), data=chunks()) as response:
        assert response.status == 413
        assert error_of(await response.json())["status"] == "RESOURCE_EXHAUSTED"


async def test_unknown_path_is_404_and_wrong_method_is_405(rest: RestServer) -> None:
    async with rest.session.get(rest("/v1/nothing/here")) as response:
        assert response.status == 404
        assert error_of(await response.json())["status"] == "NOT_FOUND"

    async with rest.session.put(rest(f"/v1/{VM_NAME}")) as response:
        assert response.status == 405
        assert set(response.headers["Allow"].split(", ")) == {"GET", "PATCH", "DELETE"}
        error = error_of(await response.json())
    assert error["code"] == 405

    async with rest.session.post(rest("/openapi.json")) as response:
        assert response.status == 405


async def test_rpc_the_servicer_does_not_implement_is_501(rest: RestServer) -> None:
    async with rest.session.post(rest(f"/v1/{VM_NAME}:pause"), json={}) as response:
        assert response.status == 501
        assert error_of(await response.json())["status"] == "UNIMPLEMENTED"


def test_unknown_service_is_refused_at_build_time() -> None:
    with pytest.raises(ValueError, match="unknown service"):
        build_rest_app({"harrow.v1.NoSuchService": object()})


def test_build_returns_an_aiohttp_application() -> None:
    assert isinstance(build_rest_app({}), web.Application)
