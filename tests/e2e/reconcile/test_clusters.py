"""Registering a cluster: the kubeconfig goes in and never comes out; the reconciler reports what it finds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

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


# How long the reconciler waits for a cluster to answer: long enough that the other cluster gets READY first
# even on a busy machine (it takes well under a second unloaded), short enough to wait out the attempt.
CONNECT_SECONDS = 6.0


async def test_a_cluster_that_never_answers_holds_up_no_other_cluster(start_harrow: Start, sim: KubeSim) -> None:
    harrow = await start_harrow(connect_seconds=CONNECT_SECONDS)
    # An API server that accepts connections and never says a word: a connection attempt to it can only time out.
    held: list[asyncio.StreamWriter] = []
    hung_up: list[bool] = []  # the client closed its end: its attempt is over

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read()  # what it sends (a TLS client hello), until it hangs up
        hung_up.append(True)

    silent_server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = silent_server.sockets[0].getsockname()[1]
    silent = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "s", "cluster": {"server": f"https://127.0.0.1:{port}", "insecure-skip-tls-verify": True}}
        ],
        "users": [{"name": "s", "user": {"token": "silent-cluster-token"}}],
        "contexts": [{"name": "s", "context": {"cluster": "s", "user": "s"}}],
        "current-context": "s",
    }

    async def create(cluster_id: str, kubeconfig: str) -> None:
        request = cluster_pb2.CreateClusterRequest(
            cluster_id=cluster_id, cluster=cluster_pb2.Cluster(kubeconfig=kubeconfig)
        )
        await harrow.api.call("ClusterService", "CreateCluster", request)

    def state_is(cluster_id: str, wanted: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            get = cluster_pb2.GetClusterRequest(name=f"clusters/{cluster_id}")
            return bool((await harrow.api.call("ClusterService", "GetCluster", get)).state == wanted)

        return check

    async def accepted_a_connection() -> bool:
        return bool(held)

    async def reported_timed_out() -> bool:
        get = cluster_pb2.GetClusterRequest(name="clusters/silent")
        conditions = (await harrow.api.call("ClusterService", "GetCluster", get)).conditions
        return any(c.type == "Reachable" and "timed out connecting" in c.message for c in conditions)

    try:
        await create("silent", yaml.safe_dump(silent))
        await eventually(accepted_a_connection)  # the reconciler is now waiting on it
        await create("edge", yaml.safe_dump(sim.kubeconfig()))
        await eventually(state_is("edge", cluster_pb2.Cluster.READY), within=20)
        # The other cluster did not wait behind the silent one, which is still being waited for: its connection
        # is open and its timeout not yet reported. (Judged by order, not by a wall-clock bound.)
        assert not hung_up and not await reported_timed_out()
        # And the attempt is bounded: the silent one is reported, not left pending forever (the client has no
        # timeout of its own; before the bound the attempt, and the whole cluster loop with it, waited forever).
        await eventually(reported_timed_out, within=CONNECT_SECONDS + 15)

        async def given_up() -> bool:
            return bool(hung_up)

        await eventually(given_up, within=5)  # and the connection is closed, not left open
    finally:
        silent_server.close()
        for writer in held:
            writer.close()
