"""What kubesim's cheap internals (shared stored objects, indexes instead of scans) must not change for a client."""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes_asyncio import client

from kubesim import KubeSim, KubeSimConfig
from kubesim.config import NodeSpec
from kubesim.tree import clone

from .conftest import SCALE, eventually, private_cluster, vm_body

KV = ("kubevirt.io", "v1")
MERGE = "application/merge-patch+json"


def test_clone_copies_every_container_and_nothing_else() -> None:
    obj: dict[str, Any] = {"spec": {"volumes": [{"name": "root", "size": 2}], "ok": True, "n": None}, "t": (1, [2])}
    copied = clone(obj)
    assert copied == obj
    copied["spec"]["volumes"][0]["name"] = "other"
    copied["spec"]["volumes"].append({})
    copied["t"][1].append(3)
    assert obj == {"spec": {"volumes": [{"name": "root", "size": 2}], "ok": True, "n": None}, "t": (1, [2])}


async def test_watch_events_keep_the_state_they_were_sent_for(sim: KubeSim, custom: client.CustomObjectsApi) -> None:
    """Events share the stored objects; a later write must not show through an event still being streamed."""
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    url = f"{sim.url}/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
    events: list[dict[str, Any]] = []
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {sim.token}"}) as http,
        http.get(url, params={"watch": "true", "labelSelector": "app=share-watch"}, ssl=ctx) as resp,
    ):
        await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm_body("share-watch"))

        async def read() -> None:
            async for line in resp.content:
                events.append(json.loads(line))
                status = events[-1]["object"].get("status", {})
                if any(c["type"] == "LiveMigratable" for c in status.get("conditions") or []):
                    return

        await asyncio.wait_for(read(), 10)
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(set(versions)), versions
    phases = [e["object"].get("status", {}).get("phase") for e in events]
    assert [p for i, p in enumerate(phases) if p and p not in phases[:i]] == [
        "Pending",
        "Scheduling",
        "Scheduled",
        "Running",
    ]
    # Running is written first, then the running status (conditions, volumes) in a second write.
    running = [e for e in events if e["object"].get("status", {}).get("phase") == "Running"]
    assert len(running) >= 2 and "migrationMethod" not in running[0]["object"]["status"]


async def test_running_vmi_volume_status_follows_its_claim(
    custom: client.CustomObjectsApi, core: client.CoreV1Api
) -> None:
    pvc = {
        "metadata": {"name": "share-disk"},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    await core.create_namespaced_persistent_volume_claim("default", pvc)
    vm = vm_body("share-claim", volumes=[{"name": "disk", "persistentVolumeClaim": {"claimName": "share-disk"}}])
    vm["spec"]["template"]["spec"]["domain"]["devices"]["disks"] = [{"name": "disk", "disk": {"bus": "virtio"}}]
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm)

    async def capacity() -> str | None:
        vmi = await custom.get_namespaced_custom_object(*KV, "default", "virtualmachineinstances", "share-claim")
        volumes = vmi.get("status", {}).get("volumeStatus") or []
        info = volumes[0].get("persistentVolumeClaimInfo", {}) if volumes else {}
        return info.get("capacity", {}).get("storage") if vmi["status"].get("phase") == "Running" else None

    assert await eventually(capacity) == "1Gi"
    # An expansion as the CSI resizer reports it: only the claim changes, and the VMI's status follows.
    await core.patch_namespaced_persistent_volume_claim_status(
        "share-disk", "default", {"status": {"capacity": {"storage": "2Gi"}}}, _content_type=MERGE
    )
    await eventually(lambda: _equals(capacity, "2Gi"))


async def _equals(get: Any, want: Any) -> bool:
    return bool(await get() == want)


async def test_capacity_freed_by_a_stopped_vm_is_used_again(tmp_path: Path) -> None:
    """Node usage is kept per node as VMIs come and go; it must match what the VMIs left request."""
    config = KubeSimConfig(nodes=(NodeSpec(cpu="2", memory="8Gi"),), clock_scale=SCALE)
    async with private_cluster(config, tmp_path) as (_, api):
        custom = client.CustomObjectsApi(api)

        async def phase(name: str) -> str | None:
            try:
                vmi = await custom.get_namespaced_custom_object(*KV, "default", "virtualmachineinstances", name)
            except client.ApiException:
                return None
            return str(vmi.get("status", {}).get("phase"))

        for name in ("cap-a", "cap-b"):
            await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm_body(name))
            await eventually(lambda name=name: _equals(lambda: phase(name), "Running"))
        await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm_body("cap-c"))

        async def unschedulable() -> bool:
            vm = await custom.get_namespaced_custom_object(*KV, "default", "virtualmachines", "cap-c")
            return bool(vm.get("status", {}).get("printableStatus") == "ErrorUnschedulable")

        await eventually(unschedulable)
        await custom.patch_namespaced_custom_object(
            *KV, "default", "virtualmachines", "cap-a", {"spec": {"runStrategy": "Halted"}}, _content_type=MERGE
        )
        await eventually(lambda: _equals(lambda: phase("cap-c"), "Running"))
        assert await phase("cap-a") is None
