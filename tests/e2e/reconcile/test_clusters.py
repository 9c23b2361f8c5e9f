"""Registering a cluster: the kubeconfig goes in and never comes out; the reconciler reports what it finds."""

from __future__ import annotations

import yaml
from google.protobuf import json_format
from harrow.v1 import cluster_pb2
from kubernetes_asyncio import client

from kubesim import KubeSim
from tests.e2e.clients import ApiError
from tests.e2e.reconcile.conftest import Instance, Start, eventually


async def test_a_registered_cluster_becomes_ready_and_its_kubeconfig_is_never_returned(
    harrow: Instance, sim: KubeSim
) -> None:
    kubeconfig = yaml.safe_dump(sim.kubeconfig())
    request = cluster_pb2.CreateClusterRequest(
        cluster_id="edge", cluster=cluster_pb2.Cluster(display_name="edge site", kubeconfig=kubeconfig)
    )
    created = await harrow.api.call("ClusterService", "CreateCluster", request)
    assert not created.kubeconfig and sim.token not in json_format.MessageToJson(created)

    async def ready() -> cluster_pb2.Cluster | None:
        got = await harrow.api.call("ClusterService", "GetCluster", cluster_pb2.GetClusterRequest(name="clusters/edge"))
        return got if got.state == cluster_pb2.Cluster.READY else None

    edge = await eventually(ready)
    assert edge.flavor == cluster_pb2.Cluster.HARVESTER
    assert edge.versions["kubevirt"] and edge.versions["kubernetes"].startswith("v1.")
    assert sim.token not in json_format.MessageToJson(edge)

    bad = cluster_pb2.CreateClusterRequest(cluster_id="bad", cluster=cluster_pb2.Cluster(kubeconfig="token: [oops"))
    try:
        await harrow.api.call("ClusterService", "CreateCluster", bad)
        raise AssertionError("an invalid kubeconfig was accepted")
    except ApiError as error:
        assert error.code == "INVALID_ARGUMENT" and "oops" not in error.message


async def test_a_cluster_upgraded_in_place_shows_its_new_versions_after_the_refresh(
    start_harrow: Start, kube: client.ApiClient
) -> None:
    harrow = await start_harrow(cluster_refresh_seconds=0.5)
    custom = client.CustomObjectsApi(kube)
    kubevirt = ("kubevirt.io", "v1", "harvester-system", "kubevirts", "kubevirt")
    before = (await custom.get_namespaced_custom_object(*kubevirt))["status"]["observedKubeVirtVersion"]
    get = cluster_pb2.GetClusterRequest(name="clusters/local")

    def observed(version: str) -> list[dict[str, str]]:
        return [{"op": "replace", "path": "/status/observedKubeVirtVersion", "value": version}]

    async def shows(version: str) -> bool:
        return bool((await harrow.api.call("ClusterService", "GetCluster", get)).versions["kubevirt"] == version)

    await eventually(lambda: shows(before))
    try:
        # What virt-operator reports once an upgrade has rolled out; the connection itself stays up.
        await custom.patch_namespaced_custom_object_status(*kubevirt, observed("v9.9.9"))
        await eventually(lambda: shows("v9.9.9"), within=10)
    finally:
        await custom.patch_namespaced_custom_object_status(*kubevirt, observed(before))
