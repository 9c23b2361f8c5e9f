"""Node operations on a private cluster: cordon, drain by evictionStrategy, failure and force reset."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kubesim import KubeSim, KubeSimConfig

from .conftest import SCALE, admin, eventually, private_cluster, vm_body

KV = ("kubevirt.io", "v1")
MERGE = "application/merge-patch+json"
Cluster = tuple[KubeSim, client.CustomObjectsApi, client.CoreV1Api]


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with private_cluster(KubeSimConfig(clock_scale=SCALE), tmp_path) as (kubesim, api):
        yield kubesim, client.CustomObjectsApi(api), client.CoreV1Api(api)


async def _vmi(custom: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    try:
        return dict(await custom.get_namespaced_custom_object(*KV, "default", "virtualmachineinstances", name))
    except ApiException:
        return {}


async def _running(custom: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    async def check() -> dict[str, Any]:
        vmi = await _vmi(custom, name)
        return vmi if vmi.get("status", {}).get("phase") == "Running" else {}

    return dict(await eventually(check))


def _vm(name: str, strategy: str | None, migratable: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {"evictionStrategy": strategy} if strategy else {}
    vm = vm_body(name, **spec)
    if not migratable:  # a bridged pod network without the opt-in annotation cannot live-migrate
        vm["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"] = [{"name": "default", "bridge": {}}]
    return vm


async def test_drain_follows_each_vmis_eviction_strategy(cluster: Cluster) -> None:
    sim, custom, core = cluster
    await custom.patch_namespaced_custom_object(
        *KV,
        "harvester-system",
        "kubevirts",
        "kubevirt",
        {"spec": {"configuration": {"evictionStrategy": "LiveMigrate"}}},
        _content_type=MERGE,
    )
    vms = {
        "live": _vm("live", "LiveMigrate"),
        "inherit": _vm("inherit", None),
        "none": _vm("none", "None"),
        "maybe": _vm("maybe", "LiveMigrateIfPossible", migratable=False),
        "pinned": _vm("pinned", "LiveMigrate", migratable=False),
        "external": _vm("external", "External"),
    }
    for node in ("node-1", "node-2"):
        await admin(sim, f"nodes/{node}/cordon")
    for body in vms.values():
        await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", body)
    before = {name: await _running(custom, name) for name in vms}
    assert {v["status"]["nodeName"] for v in before.values()} == {"node-0"}
    for node in ("node-1", "node-2"):
        await admin(sim, f"nodes/{node}/uncordon")

    result = await admin(sim, "nodes/node-0/drain")
    assert sorted(result["migrated"]) == ["default/inherit", "default/live"]
    assert sorted(result["deleted"]) == ["default/maybe", "default/none"]
    assert sorted(result["blocked"]) == ["default/external", "default/pinned"]
    node = await core.read_node("node-0")
    assert node.spec.unschedulable is True
    assert [t.key for t in node.spec.taints] == ["node.kubernetes.io/unschedulable"]

    async def moved(name: str, same_vmi: bool) -> bool:
        vmi = await _vmi(custom, name)
        status = vmi.get("status", {})
        same = vmi.get("metadata", {}).get("uid") == before[name]["metadata"]["uid"]
        return status.get("phase") == "Running" and status.get("nodeName") != "node-0" and same == same_vmi

    for name in ("live", "inherit"):
        await eventually(lambda name=name: moved(name, same_vmi=True))
        assert "evacuationNodeName" not in (await _vmi(custom, name))["status"]
    for name in ("none", "maybe"):
        await eventually(lambda name=name: moved(name, same_vmi=False))
    for name in ("pinned", "external"):
        status = (await _vmi(custom, name))["status"]
        assert status["nodeName"] == "node-0" and status["evacuationNodeName"] == "node-0"
    migrations = (await custom.list_namespaced_custom_object(*KV, "default", "virtualmachineinstancemigrations"))[
        "items"
    ]
    assert sorted(m["metadata"]["labels"]["kubevirt.io/vmi-name"] for m in migrations) == ["inherit", "live"]
    assert all(m["metadata"]["name"].startswith("kubevirt-evacuation-") for m in migrations)


async def _force_reset_period(custom: client.CustomObjectsApi, enable: bool, period: int) -> None:
    await custom.patch_cluster_custom_object(
        "harvesterhci.io",
        "v1beta1",
        "settings",
        "vm-force-reset-policy",
        {"value": json.dumps({"enable": enable, "period": period})},
        _content_type=MERGE,
    )


async def test_failed_node_vmis_restart_elsewhere_after_the_force_reset_period(cluster: Cluster) -> None:
    sim, custom, core = cluster
    await _force_reset_period(custom, True, 60)
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm_body("survivor"))
    first = await _running(custom, "survivor")
    node = first["status"]["nodeName"]
    failed_at = sim.clock.elapsed()
    await admin(sim, f"nodes/{node}/fail")
    ready = next(c for c in (await core.read_node(node)).status.conditions if c.type == "Ready")
    assert ready.status == "Unknown" and ready.reason == "NodeStatusUnknown"

    await asyncio.sleep(30 / SCALE)
    assert (await _vmi(custom, "survivor"))["metadata"]["uid"] == first["metadata"]["uid"]

    async def restarted() -> bool:
        vmi = await _vmi(custom, "survivor")
        status = vmi.get("status", {})
        return status.get("phase") == "Running" and status.get("nodeName") != node

    await eventually(restarted)
    assert sim.clock.elapsed() - failed_at >= 60
    await admin(sim, f"nodes/{node}/recover")


async def test_disabled_force_reset_leaves_vmis_on_a_failed_node(cluster: Cluster) -> None:
    sim, custom, _ = cluster
    await _force_reset_period(custom, False, 10)
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm_body("stranded"))
    vmi = await _running(custom, "stranded")
    await admin(sim, f"nodes/{vmi['status']['nodeName']}/fail")
    await asyncio.sleep(60 / SCALE)
    after = await _vmi(custom, "stranded")
    assert after["metadata"]["uid"] == vmi["metadata"]["uid"] and after["status"]["phase"] == "Running"
