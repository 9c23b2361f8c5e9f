"""Pure parts of the migration workers: status from VMIMs, why a Pending migration waits, what drifted."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from server.reconcile.migration_config_worker import merged_block
from server.reconcile.migration_policy_worker import desired, edited
from server.reconcile.migration_status import Limits, queue, status
from server.reconcile.translate import ClusterFacts, Intent, translate
from server.reconcile.translate_resources import Overcommit
from storage.models import MigrationPolicyRow

LIMITS = Limits(per_cluster=5, per_node=2)


def vmim(name: str, vmi: str, phase: str, created: str = "2026-01-01T00:00:00Z", source: str = "") -> dict[str, Any]:
    state = {"sourceNode": source, "targetNode": "node-9"} if source else {}
    return {
        "metadata": {"namespace": "ns", "name": name, "creationTimestamp": created},
        "spec": {"vmiName": vmi},
        "status": {"phase": phase, **({"migrationState": state} if state else {})},
    }


def test_a_pending_migration_behind_a_full_cluster_names_the_cluster_limit_and_its_place() -> None:
    running = [vmim(f"r{i}", f"r{i}", "Running", source=f"node-{i % 3}") for i in range(5)]
    earlier = vmim("a", "a", "Pending", created="2026-01-01T00:00:00Z")
    mine = vmim("b", "b", "Pending", created="2026-01-01T00:00:01Z")
    sources = {"ns/a": "node-0", "ns/b": "node-1"}
    assert queue(mine, [*running, earlier, mine], sources, LIMITS) == {
        "position": 1,
        "limit": "PER_CLUSTER",
        "limit_value": 5,
    }
    assert queue(earlier, [*running, earlier, mine], sources, LIMITS)["position"] == 0


def test_two_outbound_from_the_same_node_hold_a_third_back_but_not_one_from_elsewhere() -> None:
    running = [vmim("r0", "r0", "Running", source="node-0"), vmim("r1", "r1", "Scheduling", source="node-0")]
    same = vmim("s", "s", "Pending")
    other = vmim("o", "o", "Pending", created="2026-01-01T00:00:05Z")
    sources = {"ns/s": "node-0", "ns/o": "node-1"}
    assert queue(same, [*running, same, other], sources, LIMITS) == {
        "position": 0,
        "limit": "PER_NODE_OUTBOUND",
        "limit_value": 2,
    }
    assert queue(other, [*running, same, other], sources, LIMITS) is None


def test_limits_come_from_the_kubevirt_cr_else_the_version_defaults() -> None:
    assert Limits.of({"parallelMigrationsPerCluster": 3}, "v1.8.4") == Limits(3, 2)
    assert Limits.of(None, "") == Limits(5, 2)


def test_status_shows_mode_nodes_policy_configuration_and_the_completion_timeout() -> None:
    cluster_vmim = vmim("m", "vm", "Running", source="node-0")
    cluster_vmim["status"]["migrationState"].update(
        mode="PostCopy",
        startTimestamp="2026-01-01T00:00:02Z",
        migrationPolicyName="gold",
        migrationConfiguration={"completionTimeoutPerGiB": 150, "bandwidthPerMigration": 0, "allowPostCopy": True},
    )
    vmi = {"status": {"migrationMethod": "BlockMigration"}}
    state, shown = status("local", cluster_vmim, vmi, {}, 2 * 2**30)
    assert state == "RUNNING"
    assert shown["mode"] == "POST_COPY" and shown["method"] == "BLOCK_MIGRATION"
    assert (shown["source_node"], shown["target_node"]) == ("node-0", "node-9")
    assert shown["policy"] == "clusters/local/migrationPolicies/gold"
    assert shown["configuration"] == {
        "completion_timeout_per_gib": 150,
        "bandwidth_per_migration": "0",
        "allow_post_copy": True,
    }
    assert shown["completion_timeout"]["seconds"] == 450  # 150 * ceil(2.147 GB), semantics.md §2.4


def test_a_failed_migration_carries_kubevirts_reason() -> None:
    failed = vmim("m", "vm", "Failed", source="node-0")
    failed["status"]["migrationState"]["failureReason"] = "Live migration stuck for 151 sec and has been aborted"
    state, shown = status("local", failed, None, {}, 0)
    assert state == "FAILED" and shown["failure_reason"].startswith("Live migration stuck")


def test_harrow_owns_only_the_keys_it_models_in_a_migrations_block() -> None:
    current = {"disableTLS": True, "parallelMigrationsPerCluster": 9, "progressTimeout": 30}
    assert merged_block(current, {"parallelMigrationsPerCluster": 3}) == {
        "disableTLS": True,
        "parallelMigrationsPerCluster": 3,
    }


def test_vm_labels_reach_the_vmi_template_so_policy_selectors_can_match() -> None:
    facts = ClusterFacts(harvester=False, overcommit=Overcommit(cpu=100, memory=100))
    spec = {"cpu": {"cores": 1}, "memory": "1Gi", "run_strategy": "ALWAYS"}
    vm = translate(Intent("ns", "web", "uid-1", 1, spec, labels={"tier": "gold"}), facts)
    template_labels = vm["spec"]["template"]["metadata"]["labels"]
    assert template_labels["tier"] == "gold" and template_labels["harrow.io/uid"] == "uid-1"
    assert "tier" not in vm["metadata"]["labels"]


def test_a_policy_edited_on_the_cluster_shows_every_changed_part_selectors_included() -> None:
    row = MigrationPolicyRow(
        uid=uuid.UUID(int=1),
        name="clusters/local/migrationPolicies/gold",
        generation=2,
        spec={"allow_post_copy": True, "selectors": {"virtual_machine_instance_selector": {"tier": "gold"}}},
    )
    want = desired(row)
    assert want["metadata"]["annotations"] == {"harrow.io/generation": "2"}
    assert edited(want, copy.deepcopy(want)) == []
    actual = copy.deepcopy(want)
    actual["spec"]["selectors"]["virtualMachineInstanceSelector"]["extra"] = "x"
    actual["spec"]["allowAutoConverge"] = True
    actual["spec"]["allowPostCopy"] = False
    assert sorted(edited(want, actual)) == [
        "spec.allowAutoConverge",
        "spec.allowPostCopy",
        "spec.selectors.virtualMachineInstanceSelector",
    ]
