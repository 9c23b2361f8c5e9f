"""IP pools on the cluster: the IPPool mirror follows intent and the ledger, and VM NICs take static addresses."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from google.protobuf import field_mask_pb2
from harrow.v1 import ip_pool_pb2 as pool_pb
from harrow.v1 import virtual_machine_pb2 as vm_pb
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from tests.e2e.clients import ApiError
from tests.e2e.reconcile.conftest import Instance, eventually, small_vm
from tests.e2e.reconcile.test_lifecycle import finished

POOLS, VMS = "IpPoolService", "VirtualMachineService"
LB = ("loadbalancer.harvesterhci.io", "v1beta1", "ippools")


async def _mirror(kube: client.ApiClient, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await client.CustomObjectsApi(kube).get_cluster_custom_object(*LB, name)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return found


async def _create_pool(harrow: Instance, pool_id: str, spec: pool_pb.IpPoolSpec) -> None:
    created = await harrow.api.call(
        POOLS,
        "CreateIpPool",
        pool_pb.CreateIpPoolRequest(parent="clusters/local", ip_pool_id=pool_id, ip_pool=pool_pb.IpPool(spec=spec)),
    )
    await finished(harrow, created)


async def test_the_mirror_follows_intent_and_ledger_puts_back_edits_and_goes_with_the_pool(
    harrow: Instance, namespace: str, kube: client.ApiClient
) -> None:
    name = f"clusters/local/ipPools/{namespace}"
    await _create_pool(harrow, namespace, pool_pb.IpPoolSpec(ranges=[pool_pb.IpRange(subnet="10.77.0.0/24")]))
    mirror = await _mirror(kube, namespace)
    assert mirror is not None and mirror["spec"] == {"ranges": [{"subnet": "10.77.0.0/24"}]}
    assert (mirror["status"]["total"], mirror["status"]["available"], mirror["status"]["lastAllocated"]) == (
        253,
        253,
        "",
    )

    for owner in ("default/lb-a", "default/lb-b", "default/lb-c"):
        await harrow.api.call(POOLS, "AllocateIpAddress", pool_pb.AllocateIpAddressRequest(pool=name, owner=owner))
    await harrow.api.call(POOLS, "ReleaseIpAddress", pool_pb.ReleaseIpAddressRequest(pool=name, owner="default/lb-b"))

    async def follows() -> dict[str, Any] | None:
        shown = await _mirror(kube, namespace)
        status = (shown or {}).get("status", {})
        return shown if status.get("allocated") == {"10.77.0.2": "default/lb-a", "10.77.0.4": "default/lb-c"} else None

    mirror = await eventually(follows, within=5)
    assert mirror["status"]["allocatedHistory"] == {"10.77.0.3": "default/lb-b"}
    assert (mirror["status"]["available"], mirror["status"]["lastAllocated"]) == (251, "10.77.0.4")
    assert harrow.app.reconciler is not None
    await eventually(
        lambda: _contains(harrow, f'harrow_ip_pool_used_addresses{{cluster="local",pool="{namespace}"}} 2'), within=8
    )
    assert f'harrow_ip_pool_size_addresses{{cluster="local",pool="{namespace}"}} 253' in (
        harrow.app.reconciler.metrics.render()
    )

    await client.CustomObjectsApi(kube).patch_cluster_custom_object(
        *LB,
        namespace,
        {"status": {"allocated": {"10.77.0.9": "intruder/lb"}}, "spec": {"description": "mine"}},
        _content_type="application/merge-patch+json",
    )
    assert await eventually(follows, within=5)
    restored = await _mirror(kube, namespace)
    assert restored is not None and "description" not in restored["spec"]
    # Counted with the worker's bookkeeping, a moment after the cluster shows the fix.
    drift_counted = 'harrow_drift_corrections_total{cluster="local",kind="IpPool"} 1'
    await eventually(lambda: _contains(harrow, drift_counted), within=5)

    pool = await harrow.api.call(POOLS, "GetIpPool", pool_pb.GetIpPoolRequest(name=name))
    pool.spec.description = "lab"
    updated = await harrow.api.call(
        POOLS,
        "UpdateIpPool",
        pool_pb.UpdateIpPoolRequest(ip_pool=pool, update_mask=field_mask_pb2.FieldMask(paths=["spec.description"])),
    )
    done = await finished(harrow, updated)
    shown = pool_pb.IpPool()
    done.response.Unpack(shown)
    assert shown.observed_generation == shown.generation == 2
    mirror = await _mirror(kube, namespace)
    assert mirror is not None and mirror["spec"]["description"] == "lab"
    assert mirror["metadata"]["annotations"]["harrow.io/generation"] == "2"

    deleted = await harrow.api.call(POOLS, "DeleteIpPool", pool_pb.DeleteIpPoolRequest(name=name, force=True))
    await finished(harrow, deleted)
    assert await _mirror(kube, namespace) is None
    with pytest.raises(ApiError) as missing:
        await harrow.api.call(POOLS, "GetIpPool", pool_pb.GetIpPoolRequest(name=name))
    assert missing.value.code == "NOT_FOUND"


async def _contains(harrow: Instance, line: str) -> bool:
    assert harrow.app.reconciler is not None
    return line in harrow.app.reconciler.metrics.render()


def _vm_on(network: str, pool: str) -> vm_pb.VirtualMachine:
    vm = small_vm()
    del vm.spec.interfaces[:]
    vm.spec.interfaces.extend(
        [
            vm_pb.NetworkInterface(name="lan", network=network, ip_pool=pool),
            vm_pb.NetworkInterface(name="default", network="pod"),
        ]
    )
    return vm


async def test_a_nic_takes_a_static_address_routed_only_on_the_primary_released_on_delete_and_sticky(
    harrow: Instance, namespace: str, kube: client.ApiClient
) -> None:
    network = f"{namespace}/vlan10"
    pool = f"clusters/local/ipPools/{namespace}"
    parent = f"clusters/local/namespaces/{namespace}"
    await _create_pool(
        harrow,
        namespace,
        pool_pb.IpPoolSpec(
            ranges=[pool_pb.IpRange(subnet="10.88.0.0/29")], selector=pool_pb.IpPoolSelector(network=network)
        ),
    )

    async def create(vm_id: str, vm: vm_pb.VirtualMachine) -> Any:
        request = vm_pb.CreateVirtualMachineRequest(parent=parent, virtual_machine_id=vm_id, virtual_machine=vm)
        return await harrow.api.call(VMS, "CreateVirtualMachine", request)

    done = await finished(harrow, await create("web", _vm_on(network, pool)))
    shown = vm_pb.VirtualMachine()
    done.response.Unpack(shown)
    assert shown.state == vm_pb.VirtualMachine.RUNNING
    [nic] = shown.status.interfaces
    assert (nic.name, nic.ip_pool, nic.address, nic.prefix_length, nic.gateway) == (
        "lan",
        pool,
        "10.88.0.2",
        29,
        "10.88.0.1",
    )
    cluster_vm = await client.CustomObjectsApi(kube).get_namespaced_custom_object(
        "kubevirt.io", "v1", namespace, "virtualmachines", "web"
    )
    template = cluster_vm["spec"]["template"]["spec"]
    no_cloud = next(v["cloudInitNoCloud"] for v in template["volumes"] if "cloudInitNoCloud" in v)
    ethernets = yaml.safe_load(no_cloud["networkData"])["ethernets"]
    assert ethernets["lan"]["addresses"] == ["10.88.0.2/29"]
    assert ethernets["lan"]["routes"] == [{"to": "0.0.0.0/0", "via": "10.88.0.1"}]
    assert ethernets["default"]["dhcp4-overrides"] == {"use-routes": False}
    assert template["domain"]["devices"]["interfaces"][0]["macAddress"] == nic.mac_address
    assert shown.spec.interfaces[0].mac_address == "", "spec is echoed as written"

    await harrow.api.call(POOLS, "AllocateIpAddress", pool_pb.AllocateIpAddressRequest(pool=pool, owner="other/lb"))
    name = f"{parent}/virtualMachines/web"
    await finished(
        harrow, await harrow.api.call(VMS, "DeleteVirtualMachine", vm_pb.DeleteVirtualMachineRequest(name=name))
    )
    held = await harrow.api.call(POOLS, "ListIpAllocations", pool_pb.ListIpAllocationsRequest(parent=pool))
    assert [a.owner for a in held.ip_allocations] == ["other/lb"], "the purge released the NIC's address"

    again = vm_pb.VirtualMachine()
    (await finished(harrow, await create("web", _vm_on(network, pool)))).response.Unpack(again)
    assert again.status.interfaces[0].address == "10.88.0.2", "re-created, the VM gets its address back"
    events = await harrow.api.call(
        POOLS,
        "ListIpAllocationEvents",
        pool_pb.ListIpAllocationEventsRequest(parent=pool, filter='address = "10.88.0.2"'),
    )
    assert [e.action for e in events.events] == ["ALLOCATE", "RELEASE", "ALLOCATE"]


async def test_unknown_pools_and_exhausted_pools_are_refused_and_leave_nothing(
    harrow: Instance, namespace: str
) -> None:
    network = f"{namespace}/vlan20"
    pool = f"clusters/local/ipPools/{namespace}"
    parent = f"clusters/local/namespaces/{namespace}"
    one = pool_pb.IpRange(subnet="10.99.0.0/24", range_start="10.99.0.10", range_end="10.99.0.10")
    await _create_pool(harrow, namespace, pool_pb.IpPoolSpec(ranges=[one]))

    async def create(vm_id: str, vm: vm_pb.VirtualMachine) -> Any:
        request = vm_pb.CreateVirtualMachineRequest(parent=parent, virtual_machine_id=vm_id, virtual_machine=vm)
        return await harrow.api.call(VMS, "CreateVirtualMachine", request)

    with pytest.raises(ApiError) as unknown:
        await create("a", _vm_on(network, "clusters/local/ipPools/nowhere"))
    assert unknown.value.code == "INVALID_ARGUMENT"
    assert unknown.value.violations == {
        "virtual_machine.spec.interfaces[0].ip_pool": "IP pool clusters/local/ipPools/nowhere does not exist"
    }
    with pytest.raises(ApiError) as on_pod:
        await create("a", _vm_on("pod", pool))
    assert "virtual_machine.spec.interfaces[0].ip_pool" in on_pod.value.violations

    await create("first", _vm_on(network, pool))
    with pytest.raises(ApiError) as exhausted:
        await create("second", _vm_on(network, pool))
    assert exhausted.value.code == "RESOURCE_EXHAUSTED" and pool in exhausted.value.message
    assert exhausted.value.metadata == {"pool": pool}
    with pytest.raises(ApiError) as absent:
        await harrow.api.call(
            VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=f"{parent}/virtualMachines/second")
        )
    assert absent.value.code == "NOT_FOUND"
    held = await harrow.api.call(POOLS, "ListIpAllocations", pool_pb.ListIpAllocationsRequest(parent=pool))
    assert [a.owner for a in held.ip_allocations] == [f"{parent}/virtualMachines/first/interfaces/lan"]
