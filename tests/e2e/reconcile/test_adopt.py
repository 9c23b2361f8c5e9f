"""Adopt: a VM someone else created in the cluster comes under Harrow without restarting."""

from __future__ import annotations

from typing import Any

import pytest
from google.longrunning import operations_pb2
from google.rpc import code_pb2
from harrow.v1 import virtual_machine_pb2 as vm_pb
from kubernetes_asyncio import client

from tests.e2e.clients import ApiError
from tests.e2e.reconcile.conftest import Instance, eventually
from tests.e2e.reconcile.test_lifecycle import VMS, finished, get

KUBEVIRT = ("kubevirt.io", "v1")


def legacy_vm(name: str, volume: dict[str, Any] | None = None) -> dict[str, Any]:
    """A VM as kubectl would create it: no Harrow labels, a data volume template named as Harrow would name it."""
    spec: dict[str, Any] = {
        "runStrategy": "Always",
        "template": {
            "metadata": {"labels": {"app": "legacy"}},
            "spec": {
                "domain": {
                    "cpu": {"cores": 2, "sockets": 1, "threads": 1},
                    "memory": {"guest": "2Gi"},
                    "resources": {"limits": {"cpu": "2", "memory": "2Gi"}},
                    "devices": {
                        "disks": [{"name": "root", "disk": {"bus": "virtio"}, "bootOrder": 1}],
                        "interfaces": [{"name": "default", "masquerade": {}}],
                    },
                },
                "networks": [{"name": "default", "pod": {}}],
                "volumes": [volume or {"name": "root", "dataVolume": {"name": f"{name}-root"}}],
                "evictionStrategy": "LiveMigrate",
                "nodeSelector": {"kubernetes.io/os": "linux"},
            },
        },
    }
    if volume is None:
        spec["dataVolumeTemplates"] = [
            {
                "metadata": {"name": f"{name}-root"},
                "spec": {
                    "source": {"registry": {"url": "docker://quay.io/containerdisks/fedora:41"}},
                    "storage": {"resources": {"requests": {"storage": "2Gi"}}},
                },
            }
        ]
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name}, "spec": spec}


async def running_vmi(custom: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    async def running() -> dict[str, Any] | None:
        try:
            vmi = await custom.get_namespaced_custom_object(*KUBEVIRT, namespace, "virtualmachineinstances", name)
        except client.exceptions.ApiException:
            return None
        return vmi if (vmi.get("status") or {}).get("phase") == "Running" else None

    result: dict[str, Any] = await eventually(running)
    return result


def adopt_request(namespace: str, name: str) -> vm_pb.AdoptVirtualMachineRequest:
    return vm_pb.AdoptVirtualMachineRequest(parent=f"clusters/local/namespaces/{namespace}", virtual_machine_id=name)


async def test_adopt_running_vm_without_restart_then_stop(
    harrow: Instance, namespace: str, kube: client.ApiClient
) -> None:
    custom = client.CustomObjectsApi(kube)
    await custom.create_namespaced_custom_object(*KUBEVIRT, namespace, "virtualmachines", legacy_vm("legacy"))
    before = await running_vmi(custom, namespace, "legacy")

    done = await finished(harrow, await harrow.api.call(VMS, "AdoptVirtualMachine", adopt_request(namespace, "legacy")))
    adopted = vm_pb.VirtualMachine()
    done.response.Unpack(adopted)
    assert adopted.state == vm_pb.VirtualMachine.RUNNING

    name = f"clusters/local/namespaces/{namespace}/virtualMachines/legacy"
    shown = await get(harrow, name)
    spec = shown.spec
    assert (spec.cpu.cores, spec.memory, spec.run_strategy) == (2, "2Gi", vm_pb.VirtualMachineSpec.ALWAYS)
    assert [(d.name, d.boot_order, d.image.url, d.image.size) for d in spec.disks] == [
        ("root", 1, "docker://quay.io/containerdisks/fedora:41", "2Gi")
    ]
    assert [(i.name, i.network) for i in spec.interfaces] == [("default", "pod")]
    assert spec.eviction_strategy == vm_pb.VirtualMachineSpec.LIVE_MIGRATE
    assert dict(spec.placement.node_selector) == {"kubernetes.io/os": "linux"}
    assert "harrow.io/adopting" not in shown.annotations

    cluster_vm = await custom.get_namespaced_custom_object(*KUBEVIRT, namespace, "virtualmachines", "legacy")
    assert cluster_vm["metadata"]["labels"]["harrow.io/uid"] == shown.uid
    assert "harrow.io/cleanup" in cluster_vm["metadata"]["finalizers"]
    after = await custom.get_namespaced_custom_object(*KUBEVIRT, namespace, "virtualmachineinstances", "legacy")
    assert after["metadata"]["uid"] == before["metadata"]["uid"]  # not restarted

    stopped = await finished(
        harrow, await harrow.api.call(VMS, "StopVirtualMachine", vm_pb.StopVirtualMachineRequest(name=name))
    )
    stopped_vm = vm_pb.VirtualMachine()
    stopped.response.Unpack(stopped_vm)
    assert stopped_vm.state == vm_pb.VirtualMachine.STOPPED
    cluster_vm = await custom.get_namespaced_custom_object(*KUBEVIRT, namespace, "virtualmachines", "legacy")
    assert cluster_vm["spec"]["runStrategy"] == "Halted"


async def test_adopt_refuses_what_harrow_cannot_express(
    harrow: Instance, namespace: str, kube: client.ApiClient
) -> None:
    custom = client.CustomObjectsApi(kube)
    container_disk = {"name": "root", "containerDisk": {"image": "quay.io/containerdisks/fedora:41"}}
    await custom.create_namespaced_custom_object(
        *KUBEVIRT, namespace, "virtualmachines", legacy_vm("boxed", container_disk)
    )
    operation = await harrow.api.call(VMS, "AdoptVirtualMachine", adopt_request(namespace, "boxed"))

    async def done() -> operations_pb2.Operation | None:
        current = await harrow.api.call(
            "OperationService", "GetOperation", operations_pb2.GetOperationRequest(name=operation.name)
        )
        return current if current.done else None

    result = await eventually(done)
    assert result.error.code == code_pb2.FAILED_PRECONDITION
    assert "containerDisk" in result.error.message
    with pytest.raises(ApiError) as missing:
        await get(harrow, f"clusters/local/namespaces/{namespace}/virtualMachines/boxed")
    assert missing.value.code == "NOT_FOUND"
    cluster_vm = await custom.get_namespaced_custom_object(*KUBEVIRT, namespace, "virtualmachines", "boxed")
    assert "harrow.io/uid" not in (cluster_vm["metadata"].get("labels") or {})
