"""Defaults that moved between releases follow the versions the cluster is configured with (DESIGN §6)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from kubernetes_asyncio import client

from kubesim import KubeSim, KubeSimConfig
from kubesim.versions import (
    filesystem_overhead,
    migration_defaults,
    overcommit_config,
    schema_version,
)

from .conftest import SCALE, eventually, private_cluster, vm_body

KV = ("kubevirt.io", "v1")
CDI = ("cdi.kubevirt.io", "v1beta1")
OLD = KubeSimConfig(clock_scale=SCALE, kubevirt_version="v1.3.0", cdi_version="v1.63.0", harvester_version="v1.7.1")


def test_each_default_changes_at_its_release() -> None:
    assert migration_defaults("v1.3.9")["completionTimeoutPerGiB"] == 800
    assert migration_defaults("v1.4.0")["completionTimeoutPerGiB"] == 150
    assert migration_defaults("main")["completionTimeoutPerGiB"] == 150
    assert migration_defaults("v0.43.0")["bandwidthPerMigration"] == "64Mi"
    assert migration_defaults("v0.44.0")["bandwidthPerMigration"] == "0Mi"
    assert filesystem_overhead("v1.63.2") == 0.055 and filesystem_overhead("v1.64.0") == 0.06
    assert overcommit_config("v1.7.1") == {"cpu": 1600, "memory": 150, "storage": 200}
    assert overcommit_config("v1.8.0") == {"cpu": 1000, "memory": 150, "storage": 100}
    assert schema_version("v1.3.0", ["main", "v1.8.4"]) == "v1.8.4"
    assert schema_version("main", ["main", "v1.8.4"]) == "main"


async def _cluster_facts(api: client.ApiClient) -> dict[str, Any]:
    custom = client.CustomObjectsApi(api)
    kv = await custom.get_namespaced_custom_object(*KV, "harvester-system", "kubevirts", "kubevirt")
    cdi = await custom.get_cluster_custom_object(*CDI, "cdis", "cdi")
    settings = {
        s["metadata"]["name"]: s["default"]
        for s in (await custom.list_cluster_custom_object("harvesterhci.io", "v1beta1", "settings"))["items"]
    }
    dv = {
        "apiVersion": "cdi.kubevirt.io/v1beta1",
        "kind": "DataVolume",
        "metadata": {"name": "sized"},
        "spec": {
            "source": {"blank": {}},
            "storage": {"storageClassName": "nfs", "resources": {"requests": {"storage": "10Gi"}}},
        },
    }
    await custom.create_namespaced_custom_object(*CDI, "default", "datavolumes", dv)

    async def pvc_size() -> str:
        try:
            pvc = await client.CoreV1Api(api).read_namespaced_persistent_volume_claim("sized", "default")
        except client.ApiException:
            return ""
        return str(pvc.spec.resources.requests["storage"])

    return {
        "migrations": kv["spec"]["configuration"]["migrations"],
        "kubevirt": kv["status"]["observedKubeVirtVersion"],
        "cdi": cdi["status"]["observedVersion"],
        "harvester": settings["server-version"],
        "overcommit": json.loads(settings["overcommit-config"]),
        "pvc": int(await eventually(pvc_size)),
    }


async def test_a_current_cluster_reports_current_defaults(api: client.ApiClient) -> None:
    facts = await _cluster_facts(api)
    assert (facts["kubevirt"], facts["cdi"], facts["harvester"]) == ("v1.8.4", "v1.65.0", "v1.8.0")
    assert facts["migrations"]["completionTimeoutPerGiB"] == 150
    assert facts["migrations"]["bandwidthPerMigration"] == "0Mi"
    assert facts["overcommit"] == {"cpu": 1000, "memory": 150, "storage": 100}
    assert facts["pvc"] == _cdi_required_space(10 * 2**30, 0.06)


async def test_an_older_cluster_reports_its_own_defaults(tmp_path: Path) -> None:
    async with private_cluster(OLD, tmp_path) as (sim, api):
        facts = await _cluster_facts(api)
        assert (facts["kubevirt"], facts["cdi"], facts["harvester"]) == ("v1.3.0", "v1.63.0", "v1.7.1")
        assert facts["migrations"]["completionTimeoutPerGiB"] == 800
        assert facts["overcommit"] == {"cpu": 1600, "memory": 150, "storage": 200}
        assert facts["pvc"] == _cdi_required_space(10 * 2**30, 0.055)
        await _migration_uses_cluster_timeout(sim, client.CustomObjectsApi(api))


async def _migration_uses_cluster_timeout(sim: KubeSim, custom: client.CustomObjectsApi) -> None:
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachines", vm_body("old"))

    async def running() -> bool:
        vmi = await custom.get_namespaced_custom_object(*KV, "default", "virtualmachineinstances", "old")
        return bool(vmi.get("status", {}).get("phase") == "Running")

    await eventually(running)
    body = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration"}
    body.update({"metadata": {"name": "old-mig"}, "spec": {"vmiName": "old"}})
    await custom.create_namespaced_custom_object(*KV, "default", "virtualmachineinstancemigrations", body)

    async def configured() -> dict[str, Any]:
        got = await custom.get_namespaced_custom_object(*KV, "default", "virtualmachineinstancemigrations", "old-mig")
        return dict((got.get("status", {}).get("migrationState") or {}).get("migrationConfiguration") or {})

    conf = await eventually(configured)
    assert conf["completionTimeoutPerGiB"] == 800 and sim.config.kubevirt_version == "v1.3.0"


def _cdi_required_space(requested: int, overhead: float) -> int:
    """CDI's GetRequiredSpace (pkg/util/util.go): align to 1 MiB, then the overhead is a share of the result."""
    aligned = math.ceil(requested / 2**20) * 2**20
    return math.ceil(aligned / (1 - overhead))
