"""What a curl or grpcurl user sees: exact URLs, JSON shapes, and the two transports agreeing byte for byte."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path

from google.protobuf import json_format
from harrow.v1 import virtual_machine_pb2 as vm_pb
from harrow.v1 import virtual_machine_pb2_grpc

from tests.e2e.builders import create_request, vm_name

BASE = "/v1/clusters/local/namespaces/default/virtualMachines"
GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or "grpcurl"

USER_JSON = {
    "labels": {"team": "web"},
    "spec": {
        "cpu": {"cores": 2, "sockets": 1},
        "memory": "1536Mi",
        "runStrategy": "MANUAL",
        "disks": [
            {
                "name": "root",
                "bootOrder": 1,
                "image": {"url": "docker://quay.io/containerdisks/fedora:40", "size": "10Gi"},
            }
        ],
        "interfaces": [{"name": "default", "network": "pod", "macAddress": "02:00:00:aa:bb:cc"}],
    },
}


async def test_rest_create_then_get_returns_what_was_written(harrow, http) -> None:
    url = harrow.endpoints.rest + BASE
    async with http.post(url, params={"virtualMachineId": "web-1"}, json=USER_JSON) as response:
        assert response.status == 200
        operation = await response.json()
    assert operation["name"].startswith("operations/") and operation["metadata"]["target"] == vm_name("web-1")

    async with http.get(f"{url}/web-1") as response:
        vm = await response.json()
    assert vm["spec"] == USER_JSON["spec"]
    assert vm["state"] == "STOPPED" and vm["generation"] == "1"  # int64 is a string in proto3 JSON


async def test_grpc_and_rest_show_the_same_vm(harrow, http, channel) -> None:
    stub = virtual_machine_pb2_grpc.VirtualMachineServiceStub(channel)
    await stub.CreateVirtualMachine(create_request("web-1"))
    over_grpc = await stub.GetVirtualMachine(vm_pb.GetVirtualMachineRequest(name=vm_name("web-1")))
    async with http.get(f"{harrow.endpoints.rest}{BASE}/web-1") as response:
        over_rest = await response.json()
    assert over_rest == json_format.MessageToDict(over_grpc)


async def test_unknown_json_field_is_named_and_nothing_is_created(harrow, http) -> None:
    body = {"spec": {**USER_JSON["spec"], "colour": "blue"}}
    async with http.post(harrow.endpoints.rest + BASE, params={"virtualMachineId": "web-1"}, json=body) as response:
        assert response.status == 400
        error = (await response.json())["error"]
    assert error["status"] == "INVALID_ARGUMENT" and "colour" in error["message"]
    async with http.get(harrow.endpoints.rest + BASE) as response:
        assert (await response.json()).get("virtualMachines", []) == []


async def test_bodies_over_4_mib_are_refused(harrow, http) -> None:
    body = {"spec": {**USER_JSON["spec"], "description": "x" * (4 * 1024 * 1024 + 1)}}
    async with http.post(harrow.endpoints.rest + BASE, params={"virtualMachineId": "web-1"}, json=body) as response:
        assert response.status == 413
        assert (await response.json())["error"]["status"] == "RESOURCE_EXHAUSTED"


async def test_openapi_document_covers_every_rpc(harrow, http) -> None:
    async with http.get(harrow.endpoints.rest + "/openapi.json") as response:
        document = await response.json()
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    rpcs = {m.name for m in vm_pb.DESCRIPTOR.services_by_name["VirtualMachineService"].methods}
    assert {f"VirtualMachineService_{rpc}" for rpc in rpcs} <= operations


async def _grpcurl(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        GRPCURL, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_grpcurl_lists_services_and_creates_a_vm_rest_can_read(harrow, http) -> None:
    services = (await _grpcurl("-plaintext", harrow.endpoints.grpc, "list")).split()
    assert {"harrow.v1.VirtualMachineService", "harrow.v1.ClusterService", "harrow.v1.OperationService"} <= set(
        services
    )

    request = {
        "parent": "clusters/local/namespaces/default",
        "virtualMachineId": "from-grpcurl",
        "virtualMachine": USER_JSON,
    }
    out = await _grpcurl(
        "-plaintext",
        "-d",
        json.dumps(request),
        harrow.endpoints.grpc,
        "harrow.v1.VirtualMachineService/CreateVirtualMachine",
    )
    assert json.loads(out)["name"].startswith("operations/")
    async with http.get(f"{harrow.endpoints.rest}{BASE}/from-grpcurl") as response:
        assert (await response.json())["spec"] == USER_JSON["spec"]
