"""MigrationConfig where HCO owns the KubeVirt CR, out-of-band edits put back, and an old KubeVirt's defaults.

- HCO (KubeSimConfig(hco=True), kubesim/controllers/hco.py): HCO copies the
  HyperConverged CR's liveMigrationConfig into the KubeVirt CR and reverts a
  direct KubeVirt edit, so Harrow must write the HyperConverged CR and never
  the KubeVirt CR. Harrow runs with a service account here, so kubesim records
  every request it made (kubesim/rbac.py `granted`).
- Drift: README promises an out-of-band edit of the object Harrow wrote is put
  back and counted in harrow_drift_corrections_total{kind="MigrationConfig"}.
  The check interval is min(15 s, resync_seconds); these tests run with 1 s.
- Version defaults: completionTimeoutPerGiB was 800 before KubeVirt v1.4.0 and
  is 150 since (commit 5080d817f1, semantics.md §2.3).

Each test gets a cluster of its own: the migration configuration is cluster-wide.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import grpc
import pytest
import yaml
from harrow.v1 import migration_pb2 as mig_pb
from kubernetes_asyncio import client

from kubesim import KubeSim, KubeSimConfig
from server.app import Harrow
from tests.e2e.clients import GrpcApi
from tests.e2e.reconcile.conftest import (
    Instance,
    Start,
    done,
    eventually,
    fast_settings,
    kube_client,
    kubevirt_migrations,
    own_cluster,
    running_sim,
)

MIG = "MigrationService"
CONFIG = "clusters/local/migrationConfig"
HCO = ("hco.kubevirt.io", "v1beta1")
HCO_WHERE = ("kubevirt-hyperconverged", "hyperconvergeds", "kubevirt-hyperconverged")
MERGE = "application/merge-patch+json"
RESYNC = 1.0
SCALE = 40.0


@pytest.fixture
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[KubeSim]:
    """A cluster of its own, of the flavour the test asks for (indirect parameter)."""
    async with running_sim(own_cluster(request, SCALE)) as kubesim:
        yield kubesim


@pytest.fixture
async def kube(sim: KubeSim) -> AsyncIterator[client.ApiClient]:
    async with kube_client(sim) as api:
        yield api


@pytest.fixture
async def harrow_as_account(database_url: str, sim: KubeSim, kube: client.ApiClient) -> AsyncIterator[Instance]:
    """Harrow whose credentials are a service account allowed everything: kubesim records each request it makes."""
    rbac = client.RbacAuthorizationV1Api(kube)
    await client.CoreV1Api(kube).create_namespace({"metadata": {"name": "harrow"}})
    await client.CoreV1Api(kube).create_namespaced_service_account("harrow", {"metadata": {"name": "harrow"}})
    everything = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
    await rbac.create_cluster_role({"metadata": {"name": "everything"}, "rules": everything})
    await rbac.create_cluster_role_binding(
        {
            "metadata": {"name": "harrow"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "everything"},
            "subjects": [{"kind": "ServiceAccount", "name": "harrow", "namespace": "harrow"}],
        }
    )
    kubeconfig = yaml.safe_dump(sim.kubeconfig(token=sim.token_for("harrow", "harrow")))
    async with AsyncExitStack() as stack:
        app = Harrow(fast_settings(database_url, resync_seconds=RESYNC), local_kubeconfig=kubeconfig)
        endpoints = await app.start()
        stack.push_async_callback(app.stop, 0)
        channel = await stack.enter_async_context(grpc.aio.insecure_channel(endpoints.grpc))
        yield Instance(app, endpoints, GrpcApi(channel))


async def configure(harrow: Instance, **values: Any) -> mig_pb.MigrationConfig:
    request = mig_pb.UpdateMigrationConfigRequest(
        migration_config=mig_pb.MigrationConfig(name=CONFIG, spec=mig_pb.MigrationSettings(**values))
    )
    operation = await done(harrow, await harrow.api.call(MIG, "UpdateMigrationConfig", request))
    assert not operation.HasField("error"), operation.error
    return await shown(harrow)


async def shown(harrow: Instance) -> mig_pb.MigrationConfig:
    config_now: mig_pb.MigrationConfig = await harrow.api.call(
        MIG, "GetMigrationConfig", mig_pb.GetMigrationConfigRequest(name=CONFIG)
    )
    return config_now


def drift_corrections(harrow: Instance) -> int:
    """harrow_drift_corrections_total{kind="MigrationConfig"} as /metrics shows it (0 while absent)."""
    reconciler = harrow.app.reconciler
    assert reconciler is not None
    prefix = 'harrow_drift_corrections_total{cluster="local",kind="MigrationConfig"} '
    lines = [line for line in reconciler.metrics.render().splitlines() if line.startswith(prefix)]
    return int(float(lines[0].removeprefix(prefix))) if lines else 0


async def drift_counted(harrow: Instance) -> None:
    """Exactly one correction counted (with the worker's bookkeeping, a moment after the cluster shows the fix)."""

    async def counted() -> bool:
        return drift_corrections(harrow) >= 1

    await eventually(counted, 15.0)
    assert drift_corrections(harrow) == 1


@pytest.mark.parametrize("sim", [KubeSimConfig(harvester=False, hco=True)], indirect=True, ids=["hco"])
async def test_on_hco_the_config_goes_into_the_hyperconverged_cr_and_an_edit_there_is_put_back(
    harrow_as_account: Instance, sim: KubeSim, kube: client.ApiClient
) -> None:
    harrow, custom = harrow_as_account, client.CustomObjectsApi(kube)
    configured = await configure(
        harrow,
        parallel_migrations_per_cluster=3,
        completion_timeout_per_gib=60,
        allow_post_copy=True,
        allow_workload_disruption=True,
    )
    live = (await custom.get_namespaced_custom_object(*HCO, *HCO_WHERE))["spec"]["liveMigrationConfig"]
    # Complete (the CRD would default a missing field back), without the key HCO's releases do not have.
    assert live == {
        "parallelMigrationsPerCluster": 3,
        "parallelOutboundMigrationsPerNode": 2,
        "bandwidthPerMigration": "0Mi",
        "completionTimeoutPerGiB": 60,
        "progressTimeout": 150,
        "allowAutoConverge": False,
        "allowPostCopy": True,
    }
    applied = {c.type: c for c in configured.conditions}["Applied"]
    assert "written to HyperConverged kubevirt-hyperconverged/kubevirt-hyperconverged" in applied.message
    assert "HCO has no allowWorkloadDisruption: KubeVirt derives it from allowPostCopy" in applied.message

    # HCO carries it into the KubeVirt CR.
    await eventually(lambda: _equals(kubevirt_migrations(kube), live), 15.0)

    # An out-of-band edit of the HyperConverged CR: really there (and copied by HCO), then put back by Harrow.
    assert drift_corrections(harrow) == 0  # what follows is counted for the edit, not for configuring
    edit = {"spec": {"liveMigrationConfig": {"parallelMigrationsPerCluster": 8}}}
    edited = await custom.patch_namespaced_custom_object(*HCO, *HCO_WHERE, edit, _content_type=MERGE)
    assert edited["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"] == 8

    async def put_back() -> bool:
        again = await custom.get_namespaced_custom_object(*HCO, *HCO_WHERE)
        return bool(again["spec"]["liveMigrationConfig"] == live)

    await eventually(put_back, 10.0)
    await eventually(lambda: _equals(kubevirt_migrations(kube), live), 15.0)
    await drift_counted(harrow)

    # Every write Harrow made went to the HyperConverged CR; the KubeVirt CR was only ever read.
    writes = {(a.verb, a.resource) for a in sim.rbac.granted if a.verb in ("create", "update", "patch", "delete")}
    assert ("patch", "hyperconvergeds") in writes
    assert not {write for write in writes if write[1] == "kubevirts"}, writes


@pytest.mark.parametrize(
    "sim", [KubeSimConfig(harvester=False, kubevirt_version="v1.3.1")], indirect=True, ids=["kubevirt-1.3"]
)
async def test_an_old_kubevirt_gets_its_own_defaults_and_an_edit_of_its_kubevirt_cr_is_put_back(
    start_harrow: Start, kube: client.ApiClient
) -> None:
    harrow, custom = await start_harrow(resync_seconds=RESYNC), client.CustomObjectsApi(kube)

    async def probed() -> mig_pb.MigrationConfig | None:
        current = await shown(harrow)
        return current if current.status.kubevirt_version else None

    before = await eventually(probed, 10.0)
    assert before.status.kubevirt_version == "v1.3.1"
    assert before.status.effective.completion_timeout_per_gib == 800
    provenance = {p.field: p for p in before.status.provenance}["completion_timeout_per_gib"]
    assert provenance.source == mig_pb.SettingProvenance.VERSION_DEFAULT
    assert provenance.detail == "KubeVirt v1.3.1 default"

    after = await configure(harrow, parallel_migrations_per_cluster=3)
    assert after.status.effective.completion_timeout_per_gib == 800
    assert after.status.effective.parallel_migrations_per_cluster == 3
    sources = {p.field: p.source for p in after.status.provenance}
    assert sources["parallel_migrations_per_cluster"] == mig_pb.SettingProvenance.CLUSTER_CONFIG
    assert sources["completion_timeout_per_gib"] == mig_pb.SettingProvenance.VERSION_DEFAULT
    # Unset, so removed from the CR: KubeVirt v1.3.1 then applies its own 800.
    block = await kubevirt_migrations(kube)
    assert block["parallelMigrationsPerCluster"] == 3 and "completionTimeoutPerGiB" not in block

    listing = await custom.list_cluster_custom_object("kubevirt.io", "v1", "kubevirts")
    where = listing["items"][0]["metadata"]
    # What follows is counted and reported for the edit, not for configuring.
    assert drift_corrections(harrow) == 0 and await _condition(harrow, "DriftCorrected") is None
    edit = {"spec": {"configuration": {"migrations": {"parallelMigrationsPerCluster": 7}}}}
    edited = await custom.patch_namespaced_custom_object(
        "kubevirt.io", "v1", where["namespace"], "kubevirts", where["name"], edit, _content_type=MERGE
    )
    assert edited["spec"]["configuration"]["migrations"]["parallelMigrationsPerCluster"] == 7

    async def put_back() -> bool:
        return (await kubevirt_migrations(kube)).get("parallelMigrationsPerCluster") == 3

    await eventually(put_back, 10.0)
    await drift_counted(harrow)
    drifted = await eventually(lambda: _condition(harrow, "DriftCorrected"), 15.0)
    assert "spec.configuration.migrations.parallelMigrationsPerCluster" in drifted.message


async def _equals(value: Any, wanted: Any) -> bool:
    return bool(await value == wanted)


async def _condition(harrow: Instance, kind: str) -> Any:
    return next((c for c in (await shown(harrow)).conditions if c.type == kind), None)
