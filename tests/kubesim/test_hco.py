"""kubesim's HCO: the group is served only when switched on, and the HyperConverged CR owns the migration block.

Expected values come from hyperconverged-cluster-operator v1.18.1
(kubesim/schemas/hco/SOURCES.md): the CRD's liveMigrationConfig defaults and
schema, and `hcLiveMigrationToKv`, which copies eight keys into the KubeVirt
CR and reverts any other content of that block.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kubesim import KubeSim, KubeSimConfig
from tests.kubesim.conftest import SCALE, private_cluster

HCO = ("hco.kubevirt.io", "v1beta1")
MERGE = "application/merge-patch+json"
WHERE = ("kubevirt-hyperconverged", "hyperconvergeds", "kubevirt-hyperconverged")


@pytest.fixture(scope="module")
async def hco_cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[KubeSim, client.ApiClient]]:
    config = KubeSimConfig(clock_scale=SCALE, harvester=False, hco=True)
    async with private_cluster(config, tmp_path_factory.mktemp("hco")) as cluster:
        yield cluster


async def migrations(custom: client.CustomObjectsApi) -> dict[str, Any]:
    listing = await custom.list_cluster_custom_object("kubevirt.io", "v1", "kubevirts")
    block: dict[str, Any] = listing["items"][0]["spec"]["configuration"]["migrations"]
    return block


async def eventually_equal(custom: client.CustomObjectsApi, wanted: dict[str, Any]) -> None:
    for _ in range(100):
        if await migrations(custom) == wanted:
            return
        await asyncio.sleep(0.02)
    assert await migrations(custom) == wanted


async def test_without_the_switch_the_group_is_not_served(
    api: client.ApiClient, custom: client.CustomObjectsApi
) -> None:
    groups = await client.ApisApi(api).get_api_versions()
    assert "hco.kubevirt.io" not in [group.name for group in groups.groups]
    for call in (
        custom.get_api_resources(*HCO),
        custom.list_cluster_custom_object(*HCO, "hyperconvergeds"),
        custom.get_namespaced_custom_object(*HCO, *WHERE),
    ):
        with pytest.raises(ApiException) as refused:
            await call
        assert refused.value.status == 404


async def test_the_seeded_hyperconverged_holds_the_release_defaults_and_drives_the_kubevirt_cr(
    hco_cluster: tuple[KubeSim, client.ApiClient],
) -> None:
    _, api = hco_cluster
    custom = client.CustomObjectsApi(api)
    served = await custom.get_api_resources(*HCO)
    assert [r.name for r in served.resources] == ["hyperconvergeds", "hyperconvergeds/status"]
    assert served.resources[0].namespaced is True and served.resources[0].short_names == ["hco", "hcos"]
    hco = await custom.get_namespaced_custom_object(*HCO, *WHERE)
    assert hco["spec"]["liveMigrationConfig"] == {
        "allowAutoConverge": False,
        "allowPostCopy": False,
        "completionTimeoutPerGiB": 150,
        "parallelMigrationsPerCluster": 5,
        "parallelOutboundMigrationsPerNode": 2,
        "progressTimeout": 150,
    }
    # HCO replaced the seeded block: its six keys only (the seeded nodeDrainTaintKey is gone).
    await eventually_equal(custom, hco["spec"]["liveMigrationConfig"])


async def test_an_edit_of_the_hyperconverged_reaches_the_kubevirt_cr_and_a_direct_kubevirt_edit_is_put_back(
    hco_cluster: tuple[KubeSim, client.ApiClient],
) -> None:
    _, api = hco_cluster
    custom = client.CustomObjectsApi(api)
    patch = {"spec": {"liveMigrationConfig": {"parallelMigrationsPerCluster": 3, "bandwidthPerMigration": "64Mi"}}}
    await custom.patch_namespaced_custom_object(*HCO, *WHERE, patch, _content_type=MERGE)
    wanted = {**(await migrations(custom)), "parallelMigrationsPerCluster": 3, "bandwidthPerMigration": "64Mi"}
    await eventually_equal(custom, wanted)

    listing = await custom.list_cluster_custom_object("kubevirt.io", "v1", "kubevirts")
    kubevirt = listing["items"][0]["metadata"]
    direct = {"spec": {"configuration": {"migrations": {"parallelMigrationsPerCluster": 9, "disableTLS": True}}}}
    await custom.patch_namespaced_custom_object(
        "kubevirt.io", "v1", kubevirt["namespace"], "kubevirts", kubevirt["name"], direct, _content_type=MERGE
    )
    await eventually_equal(custom, wanted)


async def test_the_schema_prunes_allow_workload_disruption_and_checks_the_bandwidth_pattern(
    hco_cluster: tuple[KubeSim, client.ApiClient],
) -> None:
    _, api = hco_cluster
    custom = client.CustomObjectsApi(api)
    # No release of HCO has allowWorkloadDisruption: the structural schema drops it.
    patch = {"spec": {"liveMigrationConfig": {"allowWorkloadDisruption": True}}}
    stored = await custom.patch_namespaced_custom_object(*HCO, *WHERE, patch, _content_type=MERGE)
    assert "allowWorkloadDisruption" not in stored["spec"]["liveMigrationConfig"]
    bad = {"spec": {"liveMigrationConfig": {"bandwidthPerMigration": "fast"}}}
    with pytest.raises(ApiException) as refused:
        await custom.patch_namespaced_custom_object(*HCO, *WHERE, bad, _content_type=MERGE)
    assert refused.value.status == 422
    assert "spec.liveMigrationConfig.bandwidthPerMigration" in str(refused.value.body)
