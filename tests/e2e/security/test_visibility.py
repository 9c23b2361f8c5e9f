"""List and Watch return only what the caller may see; audit records say who did what."""

from __future__ import annotations

import asyncio

import pytest
from google.longrunning import operations_pb2
from harrow.v1 import cluster_pb2
from harrow.v1 import security_pb2 as sec_pb
from harrow.v1 import virtual_machine_pb2 as vm_pb

from tests.e2e.builders import create_request, new_request_id
from tests.e2e.clients import ApiError
from tests.e2e.security.conftest import Secured
from tests.e2e.security.world import OTHER, TEAM, build

EVERY_NAMESPACE = "clusters/local/namespaces/-"
VM = "VirtualMachineService"


async def test_lists_show_a_namespace_viewer_only_its_namespace(secure: Secured) -> None:
    world = await build(secure)
    for transport in ("grpc", "rest"):
        async with secure.api(transport, world.tokens["viewer"]) as viewer:
            vms = await viewer.call(VM, "ListVirtualMachines", vm_pb.ListVirtualMachinesRequest(parent=EVERY_NAMESPACE))
            assert [vm.name for vm in vms.virtual_machines] == [f"{TEAM}/virtualMachines/web"]
            operations = await viewer.call("OperationService", "ListOperations", operations_pb2.ListOperationsRequest())
            assert operations.operations and all(op.name != world.other_operation for op in operations.operations)
            clusters = await viewer.call("ClusterService", "ListClusters", cluster_pb2.ListClustersRequest())
            assert [c.name for c in clusters.clusters] == ["clusters/local"]
        async with secure.api(transport, world.tokens["outsider"]) as outsider:
            clusters = await outsider.call("ClusterService", "ListClusters", cluster_pb2.ListClustersRequest())
            operations = await outsider.call(
                "OperationService", "ListOperations", operations_pb2.ListOperationsRequest()
            )
            assert not clusters.clusters and not operations.operations
        async with secure.api(transport, world.tokens["netops"]) as netops:
            vms = await netops.call(VM, "ListVirtualMachines", vm_pb.ListVirtualMachinesRequest(parent=EVERY_NAMESPACE))
            assert len(vms.virtual_machines) == 2


@pytest.mark.parametrize("transport", ["grpc", "rest"])
async def test_watch_shows_a_namespace_viewer_only_its_namespace(secure: Secured, transport: str) -> None:
    world = await build(secure)
    async with secure.api(transport, world.tokens["viewer"]) as viewer, secure.api("grpc", secure.admin_token) as admin:
        listed = await viewer.call(VM, "ListVirtualMachines", vm_pb.ListVirtualMachinesRequest(parent=EVERY_NAMESPACE))
        request = vm_pb.WatchVirtualMachinesRequest(parent=EVERY_NAMESPACE, since_revision=listed.revision)
        seen: list[str] = []

        async def watch() -> None:
            async for event in viewer.stream(VM, "WatchVirtualMachines", request):
                if event.virtual_machine.name:
                    seen.append(event.virtual_machine.name)
                if event.virtual_machine.name.endswith("/team-new"):
                    return

        watching = asyncio.create_task(watch())
        await admin.call(VM, "CreateVirtualMachine", create_request("other-new", parent=OTHER))
        await admin.call(VM, "CreateVirtualMachine", create_request("team-new", parent=TEAM))
        await asyncio.wait_for(watching, 10)
    assert seen == [f"{TEAM}/virtualMachines/team-new"]


async def test_audit_records_who_did_what_and_how_it_ended(secure: Secured) -> None:
    world = await build(secure)
    request_id = new_request_id()
    async with secure.api("rest", world.tokens["operator"]) as operator:
        await operator.call(VM, "CreateVirtualMachine", create_request("audited", parent=TEAM, request_id=request_id))
        for request in (
            create_request("refused", parent=OTHER),
            vm_pb.StartVirtualMachineRequest(name=f"{TEAM}/virtualMachines/web", etag='"stale"'),
        ):
            method = (
                "CreateVirtualMachine"
                if isinstance(request, vm_pb.CreateVirtualMachineRequest)
                else "StartVirtualMachine"
            )
            try:
                await operator.call(VM, method, request)
            except ApiError:
                pass
    async with secure.api("grpc", secure.admin_token) as admin:
        listed = await admin.call(
            "SecurityService",
            "ListAuditRecords",
            sec_pb.ListAuditRecordsRequest(filter='principal = "principals/operator"'),
        )
    records = [(r.method.split("/")[-1], r.resource, r.request_id, r.code) for r in reversed(listed.audit_records)]
    assert records == [
        ("CreateVirtualMachine", f"{TEAM}/virtualMachines/audited", request_id, "OK"),
        ("CreateVirtualMachine", f"{OTHER}/virtualMachines/refused", "", "PERMISSION_DENIED"),
        ("StartVirtualMachine", f"{TEAM}/virtualMachines/web", "", "ABORTED"),
    ]
    assert all(r.time.seconds and r.peer for r in listed.audit_records)


async def test_audit_names_what_a_create_made_even_without_a_parent(secure: Secured) -> None:
    await build(secure)
    async with secure.api("rest", secure.admin_token) as admin:
        try:
            await admin.call("ClusterService", "CreateCluster", cluster_pb2.CreateClusterRequest(cluster_id="Bad_ID"))
        except ApiError as error:
            assert error.code == "INVALID_ARGUMENT"
        listed = await admin.call(
            "SecurityService",
            "ListAuditRecords",
            sec_pb.ListAuditRecordsRequest(filter='method = "harrow.v1.SecurityService/CreatePrincipal"'),
        )
        clusters = await admin.call(
            "SecurityService",
            "ListAuditRecords",
            sec_pb.ListAuditRecordsRequest(filter='method = "harrow.v1.ClusterService/CreateCluster"'),
        )
    assert sorted(r.resource for r in listed.audit_records) == [
        "principals/cadmin",
        "principals/netops",
        "principals/operator",
        "principals/outsider",
        "principals/viewer",
    ]
    assert [(r.resource, r.code) for r in clusters.audit_records] == [("clusters/Bad_ID", "INVALID_ARGUMENT")]
