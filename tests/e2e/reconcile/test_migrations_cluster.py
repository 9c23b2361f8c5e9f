"""Live migration against kubesim's migration model: policies and config reach the cluster, migrations run.

Each test gets its own simulated cluster: MigrationPolicies, the migration
configuration and running migrations are cluster-wide, so tests sharing one
would change each other's outcome.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from google.longrunning import operations_pb2
from google.rpc import code_pb2
from harrow.v1 import migration_pb2 as mig_pb
from harrow.v1 import virtual_machine_pb2 as vm_pb
from kubernetes_asyncio import client

from kubesim import KubeSim, KubeSimConfig
from kubesim.resources import by_kind
from kubesim.store import Event
from tests.e2e.reconcile.conftest import (
    Instance,
    done,
    eventually,
    kube_client,
    own_cluster,
    running_sim,
    small_vm,
)

MIG = "MigrationService"
VMS = "VirtualMachineService"
SCALE = 40.0
VMIM = by_kind("VirtualMachineInstanceMigration")


@pytest.fixture
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[KubeSim]:
    """A cluster of its own; a test may ask for a faster clock or another flavour (indirect parameter)."""
    async with running_sim(own_cluster(request, SCALE)) as kubesim:
        yield kubesim


@pytest.fixture
async def kube(sim: KubeSim) -> AsyncIterator[client.ApiClient]:
    async with kube_client(sim) as api:
        yield api


def unpack(operation: operations_pb2.Operation, message: Any) -> Any:
    assert not operation.HasField("error"), operation.error
    operation.response.Unpack(message)
    return message


async def running_vms(harrow: Instance, namespace: str, count: int, prefix: str = "vm") -> list[str]:
    parent = f"clusters/local/namespaces/{namespace}"
    created = await asyncio.gather(
        *(
            harrow.api.call(
                VMS,
                "CreateVirtualMachine",
                vm_pb.CreateVirtualMachineRequest(
                    parent=parent, virtual_machine_id=f"{prefix}-{i}", virtual_machine=small_vm()
                ),
            )
            for i in range(count)
        )
    )
    for operation in created:
        shown = unpack(await done(harrow, operation, 60.0), vm_pb.VirtualMachine())
        assert shown.state == vm_pb.VirtualMachine.RUNNING
    names = [f"{parent}/virtualMachines/{prefix}-{i}" for i in range(count)]

    async def migratable() -> bool:
        for name in names:
            vm = await harrow.api.call(VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=name))
            if not any(c.type == "LiveMigratable" and c.status == 1 for c in vm.conditions):
                return False
        return True

    await eventually(migratable, 20.0)
    return names


async def configure(harrow: Instance, **values: Any) -> None:
    request = mig_pb.UpdateMigrationConfigRequest(
        migration_config=mig_pb.MigrationConfig(
            name="clusters/local/migrationConfig", spec=mig_pb.MigrationSettings(**values)
        )
    )
    await done(harrow, await harrow.api.call(MIG, "UpdateMigrationConfig", request))


async def set_dirty_rate(kube: client.ApiClient, namespace: str, vm: str, rate: str) -> None:
    await client.CustomObjectsApi(kube).patch_namespaced_custom_object(
        "kubevirt.io",
        "v1",
        namespace,
        "virtualmachineinstances",
        vm,
        {"metadata": {"annotations": {"kubesim.harrow.io/dirty-rate": rate}}},
        _content_type="application/merge-patch+json",
    )


async def migrate(harrow: Instance, vm: str, **extra: Any) -> operations_pb2.Operation:
    return await harrow.api.call(MIG, "MigrateVirtualMachine", mig_pb.MigrateVirtualMachineRequest(name=vm, **extra))


async def policy(
    harrow: Instance, policy_id: str, selectors: mig_pb.MigrationPolicySelectors | None = None, **spec: Any
) -> mig_pb.MigrationPolicy:
    if selectors is None:
        selectors = mig_pb.MigrationPolicySelectors(virtual_machine_instance_selector={"team": "web"})
    request = mig_pb.CreateMigrationPolicyRequest(
        parent="clusters/local",
        migration_policy_id=policy_id,
        migration_policy=mig_pb.MigrationPolicy(spec=mig_pb.MigrationPolicySpec(selectors=selectors, **spec)),
    )
    return unpack(
        await done(harrow, await harrow.api.call(MIG, "CreateMigrationPolicy", request)), mig_pb.MigrationPolicy()
    )


async def test_policy_and_config_reach_the_cluster_and_drift_is_put_back(
    harrow: Instance, kube: client.ApiClient
) -> None:
    custom = client.CustomObjectsApi(kube)
    created = await policy(harrow, "gold", allow_post_copy=True, completion_timeout_per_gib=40)
    assert created.observed_generation == created.generation == 1
    on_cluster = await custom.get_cluster_custom_object(
        "migrations.kubevirt.io", "v1alpha1", "migrationpolicies", "gold"
    )
    assert on_cluster["spec"]["allowPostCopy"] is True and on_cluster["spec"]["completionTimeoutPerGiB"] == 40
    assert on_cluster["spec"]["selectors"]["virtualMachineInstanceSelector"] == {"team": "web"}

    on_cluster["spec"]["allowPostCopy"] = False
    await custom.replace_cluster_custom_object(
        "migrations.kubevirt.io", "v1alpha1", "migrationpolicies", "gold", on_cluster
    )

    async def restored() -> bool:
        again = await custom.get_cluster_custom_object(
            "migrations.kubevirt.io", "v1alpha1", "migrationpolicies", "gold"
        )
        return bool(again["spec"]["allowPostCopy"])

    await eventually(restored, 15.0)

    # Harvester 1.8 (kubesim's default): the kubevirt-migration setting carries the block, whole.
    await configure(harrow, parallel_migrations_per_cluster=3, completion_timeout_per_gib=60)
    setting = await custom.get_cluster_custom_object("harvesterhci.io", "v1beta1", "settings", "kubevirt-migration")
    value = json.loads(setting["value"])
    assert value["parallelMigrationsPerCluster"] == 3 and value["completionTimeoutPerGiB"] == 60
    assert value["parallelOutboundMigrationsPerNode"] == 2 and value["disableTLS"] is False

    async def kubevirt_took_it() -> bool:
        listing = await custom.list_cluster_custom_object("kubevirt.io", "v1", "kubevirts")
        block = listing["items"][0]["spec"]["configuration"]["migrations"]
        return bool(block["parallelMigrationsPerCluster"] == 3 and block["completionTimeoutPerGiB"] == 60)

    await eventually(kubevirt_took_it, 15.0)
    config_now = await harrow.api.call(
        MIG, "GetMigrationConfig", mig_pb.GetMigrationConfigRequest(name="clusters/local/migrationConfig")
    )
    applied = {c.type: c for c in config_now.conditions}["Applied"]
    assert "Harvester setting kubevirt-migration" in applied.message

    deleted = await harrow.api.call(
        MIG, "DeleteMigrationPolicy", mig_pb.DeleteMigrationPolicyRequest(name="clusters/local/migrationPolicies/gold")
    )
    await done(harrow, deleted)
    listing = await custom.list_cluster_custom_object("migrations.kubevirt.io", "v1alpha1", "migrationpolicies")
    assert listing["items"] == []


async def label_namespace(kube: client.ApiClient, namespace: str, **labels: str) -> None:
    await client.CoreV1Api(kube).patch_namespace(namespace, {"metadata": {"labels": labels}})


async def governed(harrow: Instance, policy_id: str) -> list[str]:
    request = mig_pb.GetMigrationPolicyRequest(name=f"clusters/local/migrationPolicies/{policy_id}")
    shown = await harrow.api.call(MIG, "GetMigrationPolicy", request)
    assert shown.status.governed_virtual_machine_count == len(shown.status.governed_virtual_machines)
    return list(shown.status.governed_virtual_machines)


async def resolved_policy(harrow: Instance, vm: str) -> mig_pb.MigrationPolicyResolution:
    request = mig_pb.ResolveVirtualMachineMigrationPolicyRequest(name=vm)
    answer: mig_pb.MigrationPolicyResolution = await harrow.api.call(
        MIG, "ResolveVirtualMachineMigrationPolicy", request
    )
    return answer


async def test_dirty_guest_fails_pre_copy_then_a_post_copy_policy_for_its_namespace_moves_it(
    harrow: Instance, namespace: str, kube: client.ApiClient
) -> None:
    """The policy selects the VM by its namespace's labels only, which Harrow observes on the cluster: its
    governed VMs, `:resolveMigrationPolicy` and the policy KubeVirt applied agree, before and after a relabel."""
    (vm,) = await running_vms(harrow, namespace, 1)
    await label_namespace(kube, namespace, env="prod")
    await configure(harrow, completion_timeout_per_gib=10)
    await set_dirty_rate(kube, namespace, "vm-0", "3Gi")
    before = (await harrow.api.call(VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=vm))).status.node

    failed = await done(harrow, await migrate(harrow, vm, migration_id="first"))
    assert failed.error.code == code_pb2.ABORTED
    assert "is not completed after 20 seconds and has been aborted" in failed.error.message
    shown = await harrow.api.call(MIG, "GetMigration", mig_pb.GetMigrationRequest(name=f"{vm}/migrations/first"))
    assert shown.state == mig_pb.Migration.FAILED
    assert shown.status.mode == mig_pb.MigrationStatus.PRE_COPY
    assert shown.status.source_node == before and shown.status.target_node
    assert shown.status.configuration.completion_timeout_per_gib == 10
    assert shown.status.completion_timeout.seconds == 20
    assert shown.status.HasField("start_time") and shown.status.HasField("end_time")
    assert shown.status.policy == ""

    by_namespace = mig_pb.MigrationPolicySelectors(namespace_selector={"env": "prod"})
    await policy(harrow, "post-copy", by_namespace, allow_post_copy=True)

    async def governs_the_vm() -> bool:
        return await governed(harrow, "post-copy") == [vm]

    await eventually(governs_the_vm, 15.0)
    answer = await resolved_policy(harrow, vm)
    assert answer.policy == "clusters/local/migrationPolicies/post-copy", answer.reason
    assert answer.namespace_labels == {"env": "prod", "kubernetes.io/metadata.name": namespace}
    assert answer.effective.allow_post_copy
    # A what-if with explicit namespace labels still wins over the observed ones.
    what_if = mig_pb.ResolveVirtualMachineMigrationPolicyRequest(name=vm, namespace_labels={"env": "dev"})
    assert (await harrow.api.call(MIG, "ResolveVirtualMachineMigrationPolicy", what_if)).policy == ""
    moved = unpack(await done(harrow, await migrate(harrow, vm, migration_id="second")), mig_pb.Migration())
    assert moved.state == mig_pb.Migration.SUCCEEDED
    assert moved.status.mode == mig_pb.MigrationStatus.POST_COPY
    assert moved.status.policy == "clusters/local/migrationPolicies/post-copy"
    assert moved.status.configuration.allow_post_copy and moved.status.configuration.allow_workload_disruption
    assert moved.status.target_node != before

    async def on_target() -> bool:
        # The VM's status follows its VMI through the VM worker, a moment apart from the migration's.
        after = await harrow.api.call(VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=vm))
        return bool(after.status.node == moved.status.target_node)

    await eventually(on_target, within=15)

    # Relabelled in the cluster (kubectl label ns): Harrow's answers follow, and so does KubeVirt's choice.
    await label_namespace(kube, namespace, env="dev")

    async def governs_nothing() -> bool:
        return await governed(harrow, "post-copy") == []

    await eventually(governs_nothing, 15.0)
    answer = await resolved_policy(harrow, vm)
    assert answer.policy == "" and answer.namespace_labels["env"] == "dev"
    again = await done(harrow, await migrate(harrow, vm, migration_id="third"))
    assert "has been aborted" in again.error.message
    third = await harrow.api.call(MIG, "GetMigration", mig_pb.GetMigrationRequest(name=f"{vm}/migrations/third"))
    assert third.status.policy == "" and third.status.mode == mig_pb.MigrationStatus.PRE_COPY


async def test_auto_converge_lets_a_busy_guest_converge(
    harrow: Instance, namespace: str, kube: client.ApiClient
) -> None:
    (vm,) = await running_vms(harrow, namespace, 1)
    await configure(harrow, completion_timeout_per_gib=10)
    await set_dirty_rate(kube, namespace, "vm-0", "1500Mi")
    failed = await done(harrow, await migrate(harrow, vm, migration_id="plain"))
    assert "has been aborted" in failed.error.message

    await policy(harrow, "converge", allow_auto_converge=True)
    source = (await harrow.api.call(VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=vm))).status.node
    target = next(node for node in ("node-0", "node-1", "node-2") if node != source)
    started = await migrate(harrow, vm, migration_id="throttled", target_node=target)
    moved = unpack(await done(harrow, started), mig_pb.Migration())
    assert moved.state == mig_pb.Migration.SUCCEEDED
    assert moved.status.mode == mig_pb.MigrationStatus.PRE_COPY
    assert moved.status.configuration.allow_auto_converge
    assert moved.status.target_node == target


def cordon_all_but(sim: KubeSim, node: str, on: bool = True) -> None:
    for other in {n["metadata"]["name"] for n in sim.store.items(by_kind("Node"))} - {node}:
        sim.controllers.nodes.cordon(other, on)


async def nodes_of(harrow: Instance, vms: list[str]) -> dict[str, str]:
    shown = [await harrow.api.call(VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=vm)) for vm in vms]
    return {vm.name: vm.status.node for vm in shown}


async def test_twelve_at_once_respect_the_parallel_limits_and_all_succeed(
    harrow: Instance, namespace: str, sim: KubeSim
) -> None:
    # 8 VMs on node-0 (the others cordoned while they start), then 2 each on node-1 and node-2: the
    # per-cluster limit (5) binds while all three nodes send, the per-node limit (2) on node-0 after.
    cordon_all_but(sim, "node-0")
    crowded = await running_vms(harrow, namespace, 8, prefix="crowded")
    cordon_all_but(sim, "node-0", on=False)
    vms = crowded + await running_vms(harrow, namespace, 4, prefix="spread")
    placed = await nodes_of(harrow, vms)
    assert sorted(placed.values()) == ["node-0"] * 8 + ["node-1"] * 2 + ["node-2"] * 2, placed
    # About 20 cluster seconds (half a second) of transfer each, so the waiting ones wait long enough to be seen
    # waiting, even by a poll slowed down by a busy machine.
    await configure(harrow, bandwidth_per_migration="50Mi")
    active: dict[str, str] = {}
    peaks = {"cluster": 0, "node": 0}

    def count(event: Event) -> None:
        if event.resource is not VMIM:
            return
        status = event.obj.get("status") or {}
        key = event.obj["metadata"]["name"]
        if status.get("phase") in ("Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running"):
            active[key] = (status.get("migrationState") or {}).get("sourceNode", "")
        else:
            active.pop(key, None)
        peaks["cluster"] = max(peaks["cluster"], len(active))
        for node in set(active.values()):
            peaks["node"] = max(peaks["node"], sum(1 for source in active.values() if source == node))

    sim.store.listeners.append(count)
    operations = await asyncio.gather(*(migrate(harrow, vm, migration_id="bulk") for vm in vms))
    names = [f"{vm}/migrations/bulk" for vm in vms]
    queued: list[mig_pb.MigrationQueue] = []

    async def all_ended() -> bool:
        shown = await asyncio.gather(
            *(harrow.api.call(MIG, "GetMigration", mig_pb.GetMigrationRequest(name=name)) for name in names)
        )
        queued.extend(m.status.queue for m in shown if m.status.HasField("queue"))
        return all(m.state in (mig_pb.Migration.SUCCEEDED, mig_pb.Migration.FAILED) for m in shown)

    await eventually(all_ended, 60.0, every=0.02)
    sim.store.listeners.remove(count)
    for operation in operations:
        assert unpack(await done(harrow, operation), mig_pb.Migration()).state == mig_pb.Migration.SUCCEEDED
    assert peaks == {"cluster": 5, "node": 2}
    assert queued, "no pending migration ever showed why it waited"
    assert any(q.limit == mig_pb.MigrationQueue.PER_CLUSTER and q.limit_value == 5 for q in queued), queued
    assert any(q.limit == mig_pb.MigrationQueue.PER_NODE_OUTBOUND and q.limit_value == 2 for q in queued), queued


async def test_cancel_aborts_a_running_migration(harrow: Instance, namespace: str, kube: client.ApiClient) -> None:
    (vm,) = await running_vms(harrow, namespace, 1)
    await set_dirty_rate(kube, namespace, "vm-0", "3Gi")
    started = await migrate(harrow, vm, migration_id="slow")
    name = f"{vm}/migrations/slow"

    async def running() -> bool:
        shown = await harrow.api.call(MIG, "GetMigration", mig_pb.GetMigrationRequest(name=name))
        return bool(shown.state == mig_pb.Migration.RUNNING)

    await eventually(running, 20.0)
    cancelled = unpack(
        await done(harrow, await harrow.api.call(MIG, "CancelMigration", mig_pb.CancelMigrationRequest(name=name))),
        mig_pb.Migration(),
    )
    assert cancelled.state == mig_pb.Migration.FAILED
    assert "aborted by CancelMigration" in cancelled.status.failure_reason
    original = await done(harrow, started)
    assert original.error.code == code_pb2.CANCELLED
    vmims = await client.CustomObjectsApi(kube).list_namespaced_custom_object(
        "kubevirt.io", "v1", namespace, "virtualmachineinstancemigrations"
    )
    assert vmims["items"] == []


@pytest.mark.parametrize("sim", [200.0], indirect=True, ids=["fast-clock"])
async def test_evacuate_moves_what_can_move_and_ends_when_nothing_can(
    harrow: Instance, namespace: str, sim: KubeSim
) -> None:
    vms = await running_vms(harrow, namespace, 4)
    placed = await nodes_of(harrow, vms)
    node = placed[vms[0]]
    on_node = sorted(vm for vm, where in placed.items() if where == node)
    # A VM with a ReadWriteOnce disk on that node cannot move: it is reported with KubeVirt's reason, not tried.
    pinned_spec = small_vm()
    pinned_spec.spec.disks.add(
        name="scratch", new_volume=vm_pb.NewVolume(size="1Gi", access_modes=[vm_pb.READ_WRITE_ONCE])
    )
    cordon_all_but(sim, node)
    create = vm_pb.CreateVirtualMachineRequest(
        parent=f"clusters/local/namespaces/{namespace}", virtual_machine_id="pinned", virtual_machine=pinned_spec
    )
    pinned = unpack(
        await done(harrow, await harrow.api.call(VMS, "CreateVirtualMachine", create)), vm_pb.VirtualMachine()
    )
    cordon_all_but(sim, node, on=False)
    assert pinned.state == vm_pb.VirtualMachine.RUNNING and pinned.status.node == node
    request = mig_pb.EvacuateNodeRequest(name=f"clusters/local/nodes/{node}")
    result = unpack(
        await done(harrow, await harrow.api.call(MIG, "EvacuateNode", request), 30.0), mig_pb.EvacuateNodeResponse()
    )
    assert sorted(result.moved) == on_node
    assert [(item.virtual_machine, item.reason, item.migration) for item in result.not_moved] == [
        (pinned.name, "DisksNotLiveMigratable", "")
    ]
    assert 'disk "scratch"' in result.not_moved[0].message and "ReadWriteOnce" in result.not_moved[0].message
    assert len(result.migrations) == len(on_node)
    assert (await nodes_of(harrow, [pinned.name]))[pinned.name] == node

    async def moved_off() -> bool:
        for vm in on_node:
            after = await harrow.api.call(VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=vm))
            if after.status.node == node:
                return False
        return True

    await eventually(moved_off, 15.0)

    # No other node can take anything: every migration fails once, is reported, and the operation ends.
    target = (await harrow.api.call(VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=vms[0]))).status.node
    for other in {n["metadata"]["name"] for n in sim.store.items(by_kind("Node"))} - {target}:
        sim.controllers.nodes.cordon(other)
    nodes = [await harrow.api.call(VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=vm)) for vm in vms]
    stuck = sorted(vm.name for vm in nodes if vm.status.node == target)
    request = mig_pb.EvacuateNodeRequest(name=f"clusters/local/nodes/{target}")
    result = unpack(
        await done(harrow, await harrow.api.call(MIG, "EvacuateNode", request), 60.0), mig_pb.EvacuateNodeResponse()
    )
    assert not result.moved
    assert sorted(item.virtual_machine for item in result.not_moved) == stuck
    assert all(item.reason == "MigrationFailed" and "unschedulable" in item.message for item in result.not_moved), (
        result
    )
    assert len(result.migrations) == len(stuck)


@pytest.mark.parametrize("sim", [KubeSimConfig(harvester=False)], indirect=True, ids=["plain-kubevirt"])
async def test_on_plain_kubevirt_the_config_goes_into_the_kubevirt_cr_and_only_harrows_keys_change(
    harrow: Instance, kube: client.ApiClient
) -> None:
    custom = client.CustomObjectsApi(kube)

    async def block() -> dict[str, Any]:
        listing = await custom.list_cluster_custom_object("kubevirt.io", "v1", "kubevirts")
        found: dict[str, Any] = listing["items"][0]["spec"]["configuration"]["migrations"]
        return found

    assert (await block())["nodeDrainTaintKey"] == "kubevirt.io/drain"
    await configure(harrow, allow_post_copy=True, bandwidth_per_migration="1Gi")
    configured = await block()
    assert configured["allowPostCopy"] is True and configured["bandwidthPerMigration"] == "1Gi"
    # Unset keys go back to KubeVirt's default (absent); keys Harrow does not model stay.
    assert "completionTimeoutPerGiB" not in configured and "parallelMigrationsPerCluster" not in configured
    assert configured["nodeDrainTaintKey"] == "kubevirt.io/drain"
    shown = await harrow.api.call(
        MIG, "GetMigrationConfig", mig_pb.GetMigrationConfigRequest(name="clusters/local/migrationConfig")
    )
    assert "written to KubeVirt" in {c.type: c for c in shown.conditions}["Applied"].message
