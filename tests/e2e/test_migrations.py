"""Live migration end to end over both transports: policies, the cluster config, explain, migrate refusals."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from google.protobuf import field_mask_pb2
from harrow.v1 import migration_pb2 as pb
from harrow.v1 import virtual_machine_pb2 as vm_pb

from tests.e2e.builders import create_request, vm_name
from tests.e2e.clients import ApiError

MIG = "MigrationService"
VM = "VirtualMachineService"
CLUSTER = "clusters/local"
CONFIG = f"{CLUSTER}/migrationConfig"


async def failure(call) -> ApiError:
    with pytest.raises(ApiError) as raised:
        await call
    return raised.value


async def create_policy(api, policy_id: str, **spec) -> None:
    policy = pb.MigrationPolicy(spec=pb.MigrationPolicySpec(**spec))
    request = pb.CreateMigrationPolicyRequest(parent=CLUSTER, migration_policy_id=policy_id, migration_policy=policy)
    await api.call(MIG, "CreateMigrationPolicy", request)


def selectors(
    vmi: dict[str, str] | None = None, namespace: dict[str, str] | None = None
) -> pb.MigrationPolicySelectors:
    return pb.MigrationPolicySelectors(virtual_machine_instance_selector=vmi or {}, namespace_selector=namespace or {})


async def set_running(database_url: str, vm: str, node: str) -> None:
    """What the reconciler writes once the cluster shows the VM running."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE virtual_machines SET state = 'RUNNING', status = jsonb_build_object('node', $2::text) "
            "WHERE name = $1",
            vm,
            node,
        )
    finally:
        await connection.close()


async def test_policy_crud_echoes_the_spec_and_reports_governed_vms(api) -> None:
    await api.call(VM, "CreateVirtualMachine", create_request("db-1", labels={"tier": "db"}))
    await api.call(VM, "CreateVirtualMachine", create_request("web-1", labels={"tier": "web"}))
    await create_policy(
        api, "db", completion_timeout_per_gib=0, allow_post_copy=False, selectors=selectors({"tier": "db"})
    )
    policy = await api.call(
        MIG, "GetMigrationPolicy", pb.GetMigrationPolicyRequest(name=f"{CLUSTER}/migrationPolicies/db")
    )
    assert policy.spec.HasField("completion_timeout_per_gib") and policy.spec.completion_timeout_per_gib == 0
    assert policy.spec.HasField("allow_post_copy") and not policy.spec.HasField("allow_auto_converge")
    assert (policy.generation, policy.reconciling, policy.state) == (1, True, pb.MigrationPolicy.ACTIVE)
    assert policy.status.governed_virtual_machine_count == 1
    assert list(policy.status.governed_virtual_machines) == [vm_name("db-1")]

    policy.spec.ClearField("allow_post_copy")
    update = pb.UpdateMigrationPolicyRequest(
        migration_policy=policy, update_mask=field_mask_pb2.FieldMask(paths=["spec.allow_post_copy"])
    )
    await api.call(MIG, "UpdateMigrationPolicy", update)
    stale = await failure(api.call(MIG, "UpdateMigrationPolicy", update))
    assert stale.code == "ABORTED"
    listed = await api.call(MIG, "ListMigrationPolicies", pb.ListMigrationPoliciesRequest(parent=CLUSTER))
    (only,) = listed.migration_policies
    assert (only.generation, only.spec.HasField("allow_post_copy")) == (2, False)

    delete = pb.DeleteMigrationPolicyRequest(name=only.name, etag=only.etag)
    await api.call(MIG, "DeleteMigrationPolicy", delete)
    deleting = await api.call(MIG, "GetMigrationPolicy", pb.GetMigrationPolicyRequest(name=only.name))
    assert (deleting.state, deleting.status.governed_virtual_machine_count) == (pb.MigrationPolicy.DELETING, 0)


async def test_policy_validation_names_every_bad_field(api) -> None:
    policy = pb.MigrationPolicy(
        spec=pb.MigrationPolicySpec(
            completion_timeout_per_gib=-1,
            bandwidth_per_migration="64MB",
            selectors=selectors({"bad key!": "x"}),
        )
    )
    request = pb.CreateMigrationPolicyRequest(parent=CLUSTER, migration_policy_id="Bad_Id", migration_policy=policy)
    bad_id = await failure(api.call(MIG, "CreateMigrationPolicy", request))
    assert bad_id.code == "INVALID_ARGUMENT" and "migration_policy_id" in bad_id.violations
    request.migration_policy_id = "ok"
    error = await failure(api.call(MIG, "CreateMigrationPolicy", request))
    assert set(error.violations) == {
        "migration_policy.spec.completion_timeout_per_gib",
        "migration_policy.spec.bandwidth_per_migration",
        'migration_policy.spec.selectors.virtual_machine_instance_selector["bad key!"]',
    }
    assert error.violations["migration_policy.spec.completion_timeout_per_gib"] == "must not be negative (got -1)"
    assert "unknown suffix" in error.violations["migration_policy.spec.bandwidth_per_migration"]


async def test_the_cluster_config_shows_effective_values_and_where_they_come_from(api) -> None:
    config = await api.call(MIG, "GetMigrationConfig", pb.GetMigrationConfigRequest(name=CONFIG))
    assert config.generation == 0 and not config.spec.ListFields()
    assert config.status.effective.completion_timeout_per_gib == 150
    assert config.status.effective.parallel_migrations_per_cluster == 5
    assert {p.source for p in config.status.provenance} == {pb.SettingProvenance.VERSION_DEFAULT}

    update = pb.UpdateMigrationConfigRequest(
        migration_config=pb.MigrationConfig(
            name=CONFIG, spec=pb.MigrationSettings(allow_post_copy=True, parallel_migrations_per_cluster=8)
        )
    )
    await api.call(MIG, "UpdateMigrationConfig", update)
    update.migration_config.spec.Clear()
    update.migration_config.spec.completion_timeout_per_gib = 300
    await api.call(MIG, "UpdateMigrationConfig", update)  # no mask: only the fields sent change
    config = await api.call(MIG, "GetMigrationConfig", pb.GetMigrationConfigRequest(name=CONFIG))
    assert (config.generation, config.spec.completion_timeout_per_gib, config.spec.allow_post_copy) == (2, 300, True)
    assert not config.spec.HasField("allow_workload_disruption")
    assert config.status.effective.allow_workload_disruption is True
    provenance = {p.field: p for p in config.status.provenance}
    assert provenance["parallel_migrations_per_cluster"].source == pb.SettingProvenance.CLUSTER_CONFIG
    assert provenance["allow_workload_disruption"].detail.startswith("not set, so it follows allow_post_copy")

    bad = pb.UpdateMigrationConfigRequest(
        migration_config=pb.MigrationConfig(
            name=CONFIG, spec=pb.MigrationSettings(parallel_outbound_migrations_per_node=0)
        )
    )
    error = await failure(api.call(MIG, "UpdateMigrationConfig", bad))
    assert error.violations == {
        "migration_config.spec.parallel_outbound_migrations_per_node": "must be at least 1 (got 0)"
    }


async def test_resolve_on_labels_explains_precedence_and_the_no_labels_quirk(api) -> None:
    await create_policy(api, "zz-db", allow_post_copy=True, selectors=selectors({"tier": "db", "app": "pg"}))
    await create_policy(api, "aa-ns", selectors=selectors(namespace={"env": "prod"}))
    await create_policy(api, "mm-db", allow_auto_converge=True, selectors=selectors({"tier": "db"}))
    request = pb.ResolveMigrationPolicyRequest(
        parent=CLUSTER,
        virtual_machine_instance_labels={"tier": "db", "app": "pg"},
        namespace_labels={"env": "prod"},
        memory="8Gi",
    )
    answer = await api.call(MIG, "ResolveMigrationPolicy", request)
    assert answer.policy == f"{CLUSTER}/migrationPolicies/zz-db"
    # mm-db (1 VMI label) and aa-ns (1 namespace label) tie on the total; VMI labels rank first.
    assert [c.policy.rpartition("/")[2] for c in answer.candidates] == ["zz-db", "mm-db", "aa-ns"]
    assert (answer.effective.allow_post_copy, answer.effective.allow_workload_disruption) == (True, True)
    provenance = {p.field: p.source for p in answer.provenance}
    assert provenance["allow_post_copy"] == pb.SettingProvenance.POLICY
    assert provenance["completion_timeout_per_gib"] == pb.SettingProvenance.VERSION_DEFAULT
    assert (answer.completion_timeout.seconds, answer.completion_timeout.data_bytes) == (1350, 8 * 1024**3)

    quirk = await api.call(MIG, "ResolveMigrationPolicy", pb.ResolveMigrationPolicyRequest(parent=CLUSTER))
    assert quirk.no_labels_quirk and quirk.policy == f"{CLUSTER}/migrationPolicies/aa-ns"
    assert all(c.matches for c in quirk.candidates)


async def test_resolve_on_a_vm_gives_timeout_and_migratability(api) -> None:
    await api.call(VM, "CreateVirtualMachine", create_request("db-1", labels={"tier": "db"}))
    await create_policy(api, "db", completion_timeout_per_gib=100, selectors=selectors({"tier": "db"}, {"team": "a"}))
    name = vm_name("db-1")
    plain = await api.call(
        MIG, "ResolveVirtualMachineMigrationPolicy", pb.ResolveVirtualMachineMigrationPolicyRequest(name=name)
    )
    assert plain.policy == "" and plain.namespace_labels == {"kubernetes.io/metadata.name": "default"}
    assert plain.virtual_machine_instance_labels["tier"] == "db"
    request = pb.ResolveVirtualMachineMigrationPolicyRequest(name=name, namespace_labels={"team": "a"})
    answer = await api.call(MIG, "ResolveVirtualMachineMigrationPolicy", request)
    assert answer.policy == f"{CLUSTER}/migrationPolicies/db"
    timeout = answer.completion_timeout
    assert (timeout.seconds, timeout.completion_timeout_per_gib) == (
        500,
        100,
    )  # 4Gi = 4.29 GB, rounded up to 5, times 100
    assert "cloud-init" in timeout.note
    live = answer.live_migratability
    assert (live.status, live.reason) == (pb.LiveMigratability.NOT_LIVE_MIGRATABLE, "VirtualMachineNotRunning")
    assert live.method == pb.LiveMigratability.BLOCK_MIGRATION


async def test_migrate_refuses_up_front_with_the_reason(api, harrow) -> None:
    rwo = vm_pb.Disk(name="scratch", new_volume=vm_pb.NewVolume(size="1Gi", access_modes=[vm_pb.READ_WRITE_ONCE]))
    await api.call(VM, "CreateVirtualMachine", create_request("pinned", disks=[rwo]))
    await api.call(VM, "CreateVirtualMachine", create_request("idle"))
    await set_running(harrow.database_url, vm_name("pinned"), "node-1")

    pinned = await failure(
        api.call(MIG, "MigrateVirtualMachine", pb.MigrateVirtualMachineRequest(name=vm_name("pinned")))
    )
    assert (pinned.code, pinned.reason) == ("FAILED_PRECONDITION", "NOT_LIVE_MIGRATABLE")
    assert pinned.message.startswith(f"virtual machine {vm_name('pinned')} cannot live-migrate: DisksNotLiveMigratable")
    assert pinned.metadata["live_migratable_reason"] == "DisksNotLiveMigratable"
    idle = await failure(api.call(MIG, "MigrateVirtualMachine", pb.MigrateVirtualMachineRequest(name=vm_name("idle"))))
    assert (idle.code, idle.reason) == ("FAILED_PRECONDITION", "VIRTUAL_MACHINE_NOT_RUNNING")
    missing = await failure(
        api.call(MIG, "MigrateVirtualMachine", pb.MigrateVirtualMachineRequest(name=vm_name("nope")))
    )
    assert missing.code == "NOT_FOUND"


async def test_migrate_creates_one_migration_at_a_time_and_cancel_records_intent(api, harrow) -> None:
    await api.call(VM, "CreateVirtualMachine", create_request("web-1"))
    vm = vm_name("web-1")
    await set_running(harrow.database_url, vm, "node-1")
    same = await failure(
        api.call(MIG, "MigrateVirtualMachine", pb.MigrateVirtualMachineRequest(name=vm, target_node="node-1"))
    )
    assert same.reason == "ALREADY_ON_TARGET_NODE"

    operation = await api.call(
        MIG,
        "MigrateVirtualMachine",
        pb.MigrateVirtualMachineRequest(name=vm, target_node="node-2", migration_id="first"),
    )
    assert not operation.done
    migration = await api.call(MIG, "GetMigration", pb.GetMigrationRequest(name=f"{vm}/migrations/first"))
    assert (migration.state, migration.spec.target_node) == (pb.Migration.PENDING, "node-2")
    busy = await failure(api.call(MIG, "MigrateVirtualMachine", pb.MigrateVirtualMachineRequest(name=vm)))
    assert (busy.reason, busy.metadata["migration"]) == ("MIGRATION_IN_PROGRESS", migration.name)

    await api.call(MIG, "CancelMigration", pb.CancelMigrationRequest(name=migration.name, etag=migration.etag))
    listed = await api.call(MIG, "ListMigrations", pb.ListMigrationsRequest(parent=vm))
    (cancelled,) = listed.migrations
    assert (cancelled.spec.cancel_requested, cancelled.generation) == (True, 2)


async def test_two_first_config_updates_at_once_both_land(api) -> None:
    """Both create the singleton if it is missing: the second must apply on top of the first, not fail."""

    def update(**settings: object) -> pb.UpdateMigrationConfigRequest:
        return pb.UpdateMigrationConfigRequest(
            migration_config=pb.MigrationConfig(name=CONFIG, spec=pb.MigrationSettings(**settings))
        )

    await asyncio.gather(
        api.call(MIG, "UpdateMigrationConfig", update(allow_auto_converge=True)),
        api.call(MIG, "UpdateMigrationConfig", update(completion_timeout_per_gib=300)),
    )
    config = await api.call(MIG, "GetMigrationConfig", pb.GetMigrationConfigRequest(name=CONFIG))
    assert (config.generation, config.spec.allow_auto_converge, config.spec.completion_timeout_per_gib) == (
        2,
        True,
        300,
    )
