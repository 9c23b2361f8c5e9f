"""Registering a cluster: the kubeconfig goes in and never comes out; the reconciler reports what it finds."""

from __future__ import annotations

import yaml
from google.protobuf import json_format
from harrow.v1 import cluster_pb2

from kubesim import KubeSim
from tests.e2e.clients import ApiError
from tests.e2e.reconcile.conftest import Instance, eventually


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
