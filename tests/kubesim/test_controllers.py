"""Simulated KubeVirt, CDI and Harvester behaviour as a client observes it."""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kubesim import KubeSim

from .conftest import admin, eventually, vm_body

KV = ("kubevirt.io", "v1")
CDI = ("cdi.kubevirt.io", "v1beta1")


async def _subresource(sim: KubeSim, path: str, body: dict[str, Any] | None = None) -> int:
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {sim.token}"}) as http:
        url = f"{sim.url}/apis/subresources.kubevirt.io/v1/namespaces/default/{path}"
        async with http.put(url, json=body or {}, ssl=ctx) as resp:
            return resp.status


def _status(custom: client.CustomObjectsApi, plural: str, name: str, ns: str = "default") -> Any:
    async def get() -> dict[str, Any]:
        try:
            obj = await custom.get_namespaced_custom_object(*KV, ns, plural, name)
        except ApiException:
            return {}
        return dict(obj.get("status") or {})

    return get


async def test_vm_lifecycle_start_stop_restart_pause(sim: KubeSim, custom: client.CustomObjectsApi) -> None:
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm_body("life"))
    vm_status = _status(custom, "virtualmachines", "life")
    await eventually(lambda: _is(vm_status, "printableStatus", "Running"))
    vmi = await custom.get_namespaced_custom_object(*KV, "default", "virtualmachineinstances", "life")
    phases = [p["phase"] for p in vmi["status"]["phaseTransitionTimestamps"]]
    assert phases == ["Pending", "Scheduling", "Scheduled", "Running"]
    assert vmi["status"]["nodeName"].startswith("node-")
    conds = {c["type"]: c for c in vmi["status"]["conditions"]}
    assert conds["LiveMigratable"]["status"] == "True" and vmi["status"]["migrationMethod"] == "LiveMigration"
    assert (await vm_status())["ready"] is True

    assert await _subresource(sim, "virtualmachineinstances/life/pause") == 202
    await eventually(lambda: _is(vm_status, "printableStatus", "Paused"))
    assert await _subresource(sim, "virtualmachineinstances/life/pause") == 409
    assert await _subresource(sim, "virtualmachineinstances/life/unpause") == 202
    await eventually(lambda: _is(vm_status, "printableStatus", "Running"))

    old_uid = vmi["metadata"]["uid"]
    assert await _subresource(sim, "virtualmachines/life/restart") == 202

    async def restarted() -> bool:
        try:
            fresh = await custom.get_namespaced_custom_object(*KV, "default", "virtualmachineinstances", "life")
        except ApiException:
            return False
        return fresh["metadata"]["uid"] != old_uid and fresh.get("status", {}).get("phase") == "Running"

    await eventually(restarted)

    assert await _subresource(sim, "virtualmachines/life/stop") == 202
    await eventually(lambda: _is(vm_status, "printableStatus", "Stopped"))
    vm = await custom.get_namespaced_custom_object(*KV, "default", "virtualmachines", "life")
    assert vm["spec"]["runStrategy"] == "Halted"
    assert await _subresource(sim, "virtualmachines/life/stop") == 409
    assert await _subresource(sim, "virtualmachines/life/start") == 202
    await eventually(lambda: _is(vm_status, "printableStatus", "Running"))


async def _is(get: Any, key: str, want: Any) -> bool:
    return bool((await get()).get(key) == want)


async def test_scheduler_honours_selectors_and_capacity(custom: client.CustomObjectsApi) -> None:
    await custom.create_namespaced_custom_object(
        *KV, "default", "virtualmachines", vm_body("nowhere", nodeSelector={"gpu": "a100"})
    )
    await eventually(
        lambda: _is(_status(custom, "virtualmachines", "nowhere"), "printableStatus", "ErrorUnschedulable")
    )
    vmi = await custom.get_namespaced_custom_object(*KV, "default", "virtualmachineinstances", "nowhere")
    cond = next(c for c in vmi["status"]["conditions"] if c["type"] == "PodScheduled")
    assert "didn't match Pod's node affinity/selector" in cond["message"]

    big = vm_body("huge")
    big["spec"]["template"]["spec"]["domain"]["resources"]["requests"]["memory"] = "1Ti"
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", big)
    await eventually(lambda: _is(_status(custom, "virtualmachines", "huge"), "printableStatus", "ErrorUnschedulable"))

    pinned = vm_body(
        "pinned",
        affinity={
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-2"]}
                            ]
                        }
                    ]
                }
            }
        },
    )
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", pinned)
    await eventually(lambda: _is(_status(custom, "virtualmachineinstances", "pinned"), "phase", "Running"))
    assert (await _status(custom, "virtualmachineinstances", "pinned")())["nodeName"] == "node-2"


async def test_storage_profiles_and_datavolume_import(custom: client.CustomObjectsApi, api: client.ApiClient) -> None:
    profiles = {
        p["metadata"]["name"]: p["status"]
        for p in (await custom.list_cluster_custom_object(*CDI, "storageprofiles"))["items"]
    }
    sets = {
        name: [(s["accessModes"][0], s["volumeMode"]) for s in st["claimPropertySets"]] for name, st in profiles.items()
    }
    assert sets["harvester-longhorn"] == [("ReadWriteMany", "Block"), ("ReadWriteOnce", "Block")]
    assert sets["longhorn-rwo"] == [("ReadWriteOnce", "Block")]
    assert sets["nfs"] == [("ReadWriteMany", "Filesystem")]

    storage = client.StorageV1Api(api)
    await storage.patch_storage_class(
        "lvm",
        {
            "metadata": {
                "annotations": {
                    "cdi.harvesterhci.io/storageProfileVolumeModeAccessModes": '{"Block":["ReadWriteMany"]}'
                }
            }
        },
    )

    async def overridden() -> bool:
        sp = await custom.get_cluster_custom_object(*CDI, "storageprofiles", "lvm")
        return bool(
            sp.get("status", {}).get("claimPropertySets") == [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]
        )

    await eventually(overridden)

    dv = {
        "apiVersion": "cdi.kubevirt.io/v1beta1",
        "kind": "DataVolume",
        "metadata": {"name": "disk1"},
        "spec": {
            "source": {"http": {"url": "http://images/img.qcow2"}},
            "storage": {"storageClassName": "longhorn-rwo", "resources": {"requests": {"storage": "10Gi"}}},
        },
    }
    await custom.create_namespaced_custom_object(*CDI, "default", "datavolumes", dv)

    async def done() -> bool:
        got = await custom.get_namespaced_custom_object(*CDI, "default", "datavolumes", "disk1")
        return got.get("status", {}).get("phase") == "Succeeded"

    await eventually(done)
    pvc = await client.CoreV1Api(api).read_namespaced_persistent_volume_claim("disk1", "default")
    assert pvc.status.phase == "Bound" and pvc.spec.access_modes == ["ReadWriteOnce"]
    assert pvc.spec.volume_mode == "Block"

    vm = vm_body("rwo", volumes=[{"name": "root", "dataVolume": {"name": "disk1"}}])
    vm["spec"]["template"]["spec"]["domain"]["devices"]["disks"] = [{"name": "root", "disk": {"bus": "virtio"}}]
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm)
    await eventually(lambda: _is(_status(custom, "virtualmachineinstances", "rwo"), "phase", "Running"))
    vmi = await custom.get_namespaced_custom_object(*KV, "default", "virtualmachineinstances", "rwo")
    cond = next(c for c in vmi["status"]["conditions"] if c["type"] == "LiveMigratable")
    assert cond["status"] == "False" and cond["reason"] == "DisksNotLiveMigratable"
    assert "PVC disk1 is not shared" in cond["message"]
    mig = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstanceMigration",
        "metadata": {"name": "mig-rwo"},
        "spec": {"vmiName": "rwo"},
    }
    with pytest.raises(ApiException) as refused:
        await custom.create_namespaced_custom_object(*KV, "default", "virtualmachineinstancemigrations", mig)
    assert "DisksNotLiveMigratable" in refused.value.body


async def _migrate(custom: client.CustomObjectsApi, vm: str, name: str) -> dict[str, Any]:
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm_body(vm))
    await eventually(lambda: _is(_status(custom, "virtualmachineinstances", vm), "phase", "Running"))
    mig = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstanceMigration",
        "metadata": {"name": name},
        "spec": {"vmiName": vm},
    }
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachineinstancemigrations", mig)

    async def final() -> dict[str, Any]:
        st = await _status(custom, "virtualmachineinstancemigrations", name)()
        return st if st.get("phase") in ("Succeeded", "Failed") else {}

    return dict(await eventually(final, within=10))


async def test_migration_succeeds_and_moves_the_vmi(custom: client.CustomObjectsApi) -> None:
    before = await _status(custom, "virtualmachineinstances", "pinned")()
    del before
    status = await _migrate(custom, "mover", "mig-ok")
    assert status["phase"] == "Succeeded"
    phases = [p["phase"] for p in status["phaseTransitionTimestamps"]]
    assert phases == [
        "Pending",
        "Scheduling",
        "Scheduled",
        "PreparingTarget",
        "TargetReady",
        "Running",
        "Succeeded",
    ]
    state = status["migrationState"]
    assert state["completed"] is True and state["sourceNode"] != state["targetNode"]
    vmi = await _status(custom, "virtualmachineinstances", "mover")()
    assert vmi["nodeName"] == state["targetNode"]


async def test_migration_policy_and_completion_timeout(custom: client.CustomObjectsApi) -> None:
    policy = {
        "apiVersion": "migrations.kubevirt.io/v1alpha1",
        "kind": "MigrationPolicy",
        "metadata": {"name": "slow"},
        "spec": {
            "selectors": {"virtualMachineInstanceSelector": {"app": "busy"}},
            "bandwidthPerMigration": "64Mi",
            "completionTimeoutPerGiB": 5,
        },
    }
    await custom.create_cluster_custom_object("migrations.kubevirt.io", "v1alpha1", "migrationpolicies", policy)
    vm = vm_body("busy")
    vm["spec"]["template"]["metadata"]["annotations"] = {"kubesim.harrow.io/dirty-rate": "100Mi"}
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm)
    await eventually(lambda: _is(_status(custom, "virtualmachineinstances", "busy"), "phase", "Running"))
    mig = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstanceMigration",
        "metadata": {"name": "mig-busy"},
        "spec": {"vmiName": "busy"},
    }
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachineinstancemigrations", mig)

    async def failed() -> dict[str, Any]:
        st = await _status(custom, "virtualmachineinstancemigrations", "mig-busy")()
        return st if st.get("phase") == "Failed" else {}

    status = await eventually(failed, within=10)
    state = status["migrationState"]
    assert state["migrationPolicyName"] == "slow"
    assert state["failureReason"] == "Live migration is not completed after 10 seconds and has been aborted"
    assert state["abortStatus"] == "Succeeded"


async def test_fault_injection_429_with_retry_after(sim: KubeSim, core: client.CoreV1Api) -> None:
    await admin(
        sim,
        "faults",
        {"verb": "list", "resource": "configmaps", "errorRate": 1.0, "code": 429, "retryAfterSeconds": 7},
    )
    await admin(sim, "faults", {"verb": "get", "resource": "secrets", "errorRate": 1.0, "code": 500})
    try:
        with pytest.raises(ApiException) as err:
            await core.read_namespaced_secret("anything", "default")
        assert err.value.status == 500
    finally:
        await admin(sim, "faults", method="DELETE")
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    await admin(
        sim,
        "faults",
        {"verb": "list", "resource": "secrets", "errorRate": 1.0, "code": 429, "retryAfterSeconds": 7},
    )
    try:
        async with (
            aiohttp.ClientSession(headers={"Authorization": f"Bearer {sim.token}"}) as http,
            http.get(f"{sim.url}/api/v1/secrets", ssl=ctx) as resp,
        ):
            assert resp.status == 429 and resp.headers["Retry-After"] == "7"
            assert (await resp.json())["reason"] == "TooManyRequests"
    finally:
        await admin(sim, "faults", method="DELETE")
