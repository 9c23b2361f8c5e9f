"""Live migration as a reconciler observes it: modes, timeouts, queueing, abort and policy choice."""

from __future__ import annotations

import asyncio
from typing import Any

from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from kubesim import KubeSim
from kubesim.controllers.migration import match_policy

from .conftest import admin, eventually, vm_body

KV = ("kubevirt.io", "v1")
MP = ("migrations.kubevirt.io", "v1alpha1", "migrationpolicies")
VMIM = "virtualmachineinstancemigrations"
MERGE = "application/merge-patch+json"


async def _vmi(custom: client.CustomObjectsApi, name: str, ns: str = "default") -> dict[str, Any]:
    try:
        return dict(await custom.get_namespaced_custom_object(*KV, ns, "virtualmachineinstances", name))
    except ApiException:
        return {}


async def _running_vm(
    custom: client.CustomObjectsApi,
    name: str,
    dirty: str | None = None,
    memory: str = "1Gi",
    ns: str = "default",
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    vm = vm_body(name, **spec)
    template = vm["spec"]["template"]
    template["spec"]["domain"]["resources"]["requests"]["memory"] = memory
    template["metadata"]["labels"].update(labels or {})
    if dirty:
        template["metadata"]["annotations"] = {"kubesim.harrow.io/dirty-rate": dirty}
    await custom.create_namespaced_custom_object(*KV, ns, "virtualmachines", vm)

    async def running() -> dict[str, Any]:
        vmi = await _vmi(custom, name, ns)
        return vmi if vmi.get("status", {}).get("phase") == "Running" else {}

    return dict(await eventually(running))


async def _policy(custom: client.CustomObjectsApi, name: str, selectors: dict[str, Any], **spec: Any) -> None:
    body = {"apiVersion": "migrations.kubevirt.io/v1alpha1", "kind": "MigrationPolicy", "metadata": {"name": name}}
    body["spec"] = {"selectors": selectors, **spec}
    await custom.create_cluster_custom_object(*MP, body)


async def _start(custom: client.CustomObjectsApi, vmi: str, name: str, ns: str = "default") -> None:
    body = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration"}
    body.update({"metadata": {"name": name}, "spec": {"vmiName": vmi}})
    await custom.create_namespaced_custom_object(*KV, ns, VMIM, body)


async def _final(custom: client.CustomObjectsApi, name: str, ns: str = "default", within: float = 10) -> dict[str, Any]:
    async def done() -> dict[str, Any]:
        got = await custom.get_namespaced_custom_object(*KV, ns, VMIM, name)
        status = dict(got.get("status") or {})
        return status if status.get("phase") in ("Succeeded", "Failed") else {}

    return dict(await eventually(done, within))


async def _migrate(custom: client.CustomObjectsApi, vmi: str, name: str, ns: str = "default") -> dict[str, Any]:
    await _start(custom, vmi, name, ns)
    return await _final(custom, name, ns)


async def test_post_copy_after_completion_timeout_finishes_the_migration(custom: client.CustomObjectsApi) -> None:
    await _policy(
        custom,
        "postcopy",
        {"virtualMachineInstanceSelector": {"app": "pc"}},
        allowPostCopy=True,
        completionTimeoutPerGiB=5,
        bandwidthPerMigration="64Mi",
    )
    source = (await _running_vm(custom, "pc", dirty="100Mi"))["status"]["nodeName"]
    status = await _migrate(custom, "pc", "mig-pc")
    state = status["migrationState"]
    assert status["phase"] == "Succeeded", state
    assert state["mode"] == "PostCopy" and state["migrationConfiguration"]["allowWorkloadDisruption"] is True
    assert (await _vmi(custom, "pc"))["status"]["nodeName"] == state["targetNode"] != source


async def test_workload_disruption_without_post_copy_pauses_the_guest(custom: client.CustomObjectsApi) -> None:
    await _policy(
        custom,
        "pause",
        {"virtualMachineInstanceSelector": {"app": "pz"}},
        allowWorkloadDisruption=True,
        completionTimeoutPerGiB=5,
        bandwidthPerMigration="64Mi",
    )
    await _running_vm(custom, "pz", dirty="100Mi")
    status = await _migrate(custom, "pz", "mig-pz")
    assert status["phase"] == "Succeeded"
    assert status["migrationState"]["mode"] == "Paused"


async def test_progress_timeout_aborts_a_migration_that_stops_shrinking(custom: client.CustomObjectsApi) -> None:
    await _policy(
        custom,
        "stuck",
        {"virtualMachineInstanceSelector": {"app": "stuck"}},
        completionTimeoutPerGiB=1000,
        bandwidthPerMigration="64Mi",
    )
    await _running_vm(custom, "stuck", dirty="100Mi")
    status = await _migrate(custom, "stuck", "mig-stuck")
    state = status["migrationState"]
    assert status["phase"] == "Failed"
    assert state["failureReason"] == "Live migration stuck for 151 sec and has been aborted"
    assert state["abortStatus"] == "Succeeded" and state["mode"] == "PreCopy"
    vmi = await _vmi(custom, "stuck")
    assert vmi["status"]["migrationState"]["failed"] is True and vmi["status"]["nodeName"] == state["sourceNode"]


async def test_auto_converge_throttles_a_busy_guest_until_it_converges(custom: client.CustomObjectsApi) -> None:
    await _policy(
        custom,
        "converge",
        {"virtualMachineInstanceSelector": {"app": "conv"}},
        allowAutoConverge=True,
        completionTimeoutPerGiB=1000,
        bandwidthPerMigration="64Mi",
    )
    await _running_vm(custom, "conv", dirty="100Mi")
    status = await _migrate(custom, "conv", "mig-conv")
    assert status["phase"] == "Succeeded", status["migrationState"].get("failureReason")
    assert status["migrationState"]["mode"] == "PreCopy"


async def _phase_log(custom: client.CustomObjectsApi, ns: str, log: list[tuple[str, str]]) -> None:
    """Record every (migration, phase) transition in the order the watch delivers them."""
    async with watch.Watch().stream(custom.list_namespaced_custom_object, *KV, ns, VMIM, timeout_seconds=20) as stream:
        async for event in stream:
            obj = event["raw_object"]
            entry = (obj["metadata"]["name"], (obj.get("status") or {}).get("phase", ""))
            if entry[1] and entry not in log:
                log.append(entry)


async def _migrate_all(custom: client.CustomObjectsApi, ns: str, vmis: list[str], tag: str) -> list[tuple[str, str]]:
    log: list[tuple[str, str]] = []
    recorder = asyncio.create_task(_phase_log(custom, ns, log))
    await asyncio.sleep(0.05)
    for vmi in vmis:
        await _start(custom, vmi, f"{tag}-{vmi}", ns)
    finals = [await _final(custom, f"{tag}-{vmi}", ns) for vmi in vmis]
    await asyncio.sleep(0.05)
    recorder.cancel()
    assert [f["phase"] for f in finals] == ["Succeeded"] * len(vmis)
    return log


async def test_parallel_limits_queue_migrations(
    sim: KubeSim, custom: client.CustomObjectsApi, core: client.CoreV1Api
) -> None:
    await core.create_namespace({"metadata": {"name": "queue"}})
    selector = {"namespaceSelector": {"kubernetes.io/metadata.name": "queue"}}
    await _policy(custom, "queue-slow", selector, bandwidthPerMigration="256Mi")
    for node in ("node-0", "node-2"):
        await admin(sim, f"nodes/{node}/cordon")
    try:
        for name in ("q1", "q2", "q3"):
            assert (await _running_vm(custom, name, memory="4Gi", ns="queue"))["status"]["nodeName"] == "node-1"
    finally:
        for node in ("node-0", "node-2"):
            await admin(sim, f"nodes/{node}/uncordon")

    log = await _migrate_all(custom, "queue", ["q1", "q2", "q3"], "out")
    # parallelOutboundMigrationsPerNode is 2: the third leaves Pending only once one of the first two is done.
    third = log.index(("out-q3", "Scheduling"))
    assert log.index(("out-q2", "Scheduling")) < log.index(("out-q1", "Succeeded"))
    assert ("out-q1", "Succeeded") in log[:third] or ("out-q2", "Succeeded") in log[:third]

    kv = ("harvester-system", "kubevirts", "kubevirt")
    limit = {"spec": {"configuration": {"migrations": {"parallelMigrationsPerCluster": 1}}}}
    await custom.patch_namespaced_custom_object(*KV, *kv, limit, _content_type=MERGE)
    try:
        log = await _migrate_all(custom, "queue", ["q1", "q2"], "one")
    finally:
        limit["spec"]["configuration"]["migrations"]["parallelMigrationsPerCluster"] = 5
        await custom.patch_namespaced_custom_object(*KV, *kv, limit, _content_type=MERGE)
    assert log.index(("one-q1", "Succeeded")) < log.index(("one-q2", "Scheduling"))


async def test_deleting_a_running_migration_aborts_it(custom: client.CustomObjectsApi) -> None:
    await _policy(
        custom,
        "abort-slow",
        {"virtualMachineInstanceSelector": {"app": "abort"}},
        completionTimeoutPerGiB=1000,
        bandwidthPerMigration="64Mi",
    )
    source = (await _running_vm(custom, "abort", dirty="100Mi"))["status"]["nodeName"]
    await _start(custom, "abort", "mig-abort")

    async def running() -> bool:
        got = await custom.get_namespaced_custom_object(*KV, "default", VMIM, "mig-abort")
        return bool(got.get("status", {}).get("phase") == "Running")

    await eventually(running)
    got = await custom.get_namespaced_custom_object(*KV, "default", VMIM, "mig-abort")
    assert got["metadata"]["finalizers"] == ["kubevirt.io/migrationJobFinalize"]
    await custom.delete_namespaced_custom_object(*KV, "default", VMIM, "mig-abort")

    async def gone() -> bool:
        try:
            await custom.get_namespaced_custom_object(*KV, "default", VMIM, "mig-abort")
        except ApiException as exc:
            return exc.status == 404
        return False

    await eventually(gone)
    vmi = await _vmi(custom, "abort")
    state = vmi["status"]["migrationState"]
    assert state["abortRequested"] is True and state["abortStatus"] == "Succeeded" and state["failed"] is True
    assert vmi["status"]["phase"] == "Running" and vmi["status"]["nodeName"] == source


def _p(name: str, vmi: dict[str, str] | None = None, ns: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"selectors": {"virtualMachineInstanceSelector": vmi, "namespaceSelector": ns}},
    }


def test_policy_precedence_follows_kubevirt_scoring() -> None:
    labels, ns_labels = {"app": "db", "tier": "gold"}, {"team": "a", "env": "prod"}
    chosen = match_policy([_p("ns-two", ns={"team": "a", "env": "prod"}), _p("vmi-two", vmi=labels)], labels, ns_labels)
    assert chosen is not None and chosen["metadata"]["name"] == "vmi-two"  # equal total: more VMI labels wins
    chosen = match_policy(
        [_p("vmi-two", vmi=labels), _p("mixed-three", vmi={"app": "db"}, ns={"team": "a", "env": "prod"})],
        labels,
        ns_labels,
    )
    assert chosen is not None and chosen["metadata"]["name"] == "mixed-three"  # higher total wins
    miss = _p("miss", vmi={"app": "db", "tier": "silver"})
    assert match_policy([miss, {"metadata": {"name": "no-selectors"}, "spec": {}}], labels, ns_labels) is None
    tie = match_policy([_p("b", vmi={"app": "db"}), _p("B", vmi={"app": "db"}), _p("a", vmi={"app": "db"})], labels, {})
    assert tie is not None and tie["metadata"]["name"] == "B"  # byte-wise smallest name
    unlabelled = match_policy([miss], None, ns_labels)
    assert unlabelled is not None  # KubeVirt skips both checks when the VMI has no labels at all


async def test_policy_matching_uses_namespace_and_vmi_labels(
    custom: client.CustomObjectsApi, core: client.CoreV1Api
) -> None:
    await core.create_namespace({"metadata": {"name": "pol", "labels": {"team": "a", "env": "prod"}}})
    labels = {"app": "prec", "tier": "gold"}
    await _running_vm(custom, "prec", ns="pol", labels={"tier": "gold"})
    await _policy(custom, "ns-two", {"namespaceSelector": {"team": "a", "env": "prod"}})
    await _policy(custom, "vmi-two", {"virtualMachineInstanceSelector": labels})
    assert (await _migrate(custom, "prec", "prec-1", "pol"))["migrationState"]["migrationPolicyName"] == "vmi-two"
    await _policy(
        custom,
        "mixed-three",
        {"virtualMachineInstanceSelector": {"app": "prec"}, "namespaceSelector": {"team": "a", "env": "prod"}},
        completionTimeoutPerGiB=42,
    )
    state = (await _migrate(custom, "prec", "prec-2", "pol"))["migrationState"]
    assert state["migrationPolicyName"] == "mixed-three"
    assert state["migrationConfiguration"]["completionTimeoutPerGiB"] == 42
