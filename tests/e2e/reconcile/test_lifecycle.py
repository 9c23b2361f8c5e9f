"""A VM's whole life through the API, as the cluster shows it: every Operation finishes only when the cluster does."""

from __future__ import annotations

from typing import Any

from google.longrunning import operations_pb2
from harrow.v1 import common_pb2
from harrow.v1 import virtual_machine_pb2 as vm_pb
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from tests.e2e.reconcile.conftest import Instance, done, small_vm

VMS = "VirtualMachineService"


async def finished(harrow: Instance, operation: operations_pb2.Operation, within: float = 30.0) -> Any:
    result = await done(harrow, operation, within)
    assert not result.HasField("error"), result.error
    return result


async def get(harrow: Instance, name: str) -> vm_pb.VirtualMachine:
    return await harrow.api.call(VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=name))


async def test_create_stop_start_restart_pause_unpause_delete(
    harrow: Instance, namespace: str, kube: client.ApiClient
) -> None:
    parent = f"clusters/local/namespaces/{namespace}"
    name = f"{parent}/virtualMachines/web"
    created = await harrow.api.call(
        VMS,
        "CreateVirtualMachine",
        vm_pb.CreateVirtualMachineRequest(parent=parent, virtual_machine_id="web", virtual_machine=small_vm()),
    )
    done = await finished(harrow, created)
    shown = vm_pb.VirtualMachine()
    done.response.Unpack(shown)
    assert shown.state == vm_pb.VirtualMachine.RUNNING
    assert shown.observed_generation == shown.generation == 1
    assert shown.status.node.startswith("node-") and shown.status.ip_addresses
    conditions = {c.type: c for c in shown.conditions}
    assert conditions["Reconciled"].status == common_pb2.Condition.TRUE
    assert conditions["LiveMigratable"].status == common_pb2.Condition.TRUE
    assert "migration method BlockMigration" in conditions["LiveMigratable"].message

    custom = client.CustomObjectsApi(kube)
    cluster_vm = await custom.get_namespaced_custom_object("kubevirt.io", "v1", namespace, "virtualmachines", "web")
    assert cluster_vm["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "harrow"
    assert cluster_vm["metadata"]["labels"]["harrow.io/uid"] == shown.uid
    assert cluster_vm["metadata"]["annotations"]["harrow.io/generation"] == "1"
    assert "harrow.io/cleanup" in cluster_vm["metadata"]["finalizers"]

    stopped = await finished(
        harrow, await harrow.api.call(VMS, "StopVirtualMachine", vm_pb.StopVirtualMachineRequest(name=name))
    )
    stopped_vm = vm_pb.VirtualMachine()
    stopped.response.Unpack(stopped_vm)
    assert stopped_vm.state == vm_pb.VirtualMachine.STOPPED

    await finished(
        harrow, await harrow.api.call(VMS, "StartVirtualMachine", vm_pb.StartVirtualMachineRequest(name=name))
    )
    before = await custom.get_namespaced_custom_object("kubevirt.io", "v1", namespace, "virtualmachineinstances", "web")
    await finished(
        harrow, await harrow.api.call(VMS, "RestartVirtualMachine", vm_pb.RestartVirtualMachineRequest(name=name))
    )
    after = await custom.get_namespaced_custom_object("kubevirt.io", "v1", namespace, "virtualmachineinstances", "web")
    assert after["metadata"]["uid"] != before["metadata"]["uid"]

    await finished(
        harrow, await harrow.api.call(VMS, "PauseVirtualMachine", vm_pb.PauseVirtualMachineRequest(name=name))
    )
    assert (await get(harrow, name)).state == vm_pb.VirtualMachine.PAUSED
    await finished(
        harrow, await harrow.api.call(VMS, "UnpauseVirtualMachine", vm_pb.UnpauseVirtualMachineRequest(name=name))
    )
    assert (await get(harrow, name)).state == vm_pb.VirtualMachine.RUNNING

    listed = await harrow.api.call(VMS, "ListVirtualMachines", vm_pb.ListVirtualMachinesRequest(parent=parent))
    events = harrow.api.stream(
        VMS, "WatchVirtualMachines", vm_pb.WatchVirtualMachinesRequest(parent=parent, since_revision=listed.revision)
    )
    await finished(
        harrow, await harrow.api.call(VMS, "DeleteVirtualMachine", vm_pb.DeleteVirtualMachineRequest(name=name))
    )
    try:
        await custom.get_namespaced_custom_object("kubevirt.io", "v1", namespace, "virtualmachines", "web")
        raise AssertionError("the cluster VM is still there")
    except ApiException as error:
        assert error.status == 404
    async for event in events:
        if event.type == common_pb2.DELETED:
            assert event.virtual_machine.name == name
            break
