"""Cluster status → Harrow status, and when an Operation is finished."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.reconcile.observe import observe, set_condition, state_of
from server.reconcile.progress import judge, subresource_for

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _vm(printable: str, *, annotated: str = "2", generation: int = 5, seen: int = 5) -> dict:
    return {
        "metadata": {"name": "web", "generation": generation, "annotations": {"harrow.io/generation": annotated}},
        "status": {
            "printableStatus": printable,
            "observedGeneration": seen,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


VMI = {
    "metadata": {"name": "web", "uid": "vmi-1"},
    "status": {
        "nodeName": "node-1",
        "migrationMethod": "BlockMigration",
        "interfaces": [{"name": "default", "ipAddress": "10.52.0.7", "ipAddresses": ["10.52.0.7", "fd00::7"]}],
        "conditions": [
            {
                "type": "LiveMigratable",
                "status": "False",
                "reason": "DisksNotLiveMigratable",
                "message": "PVC x is not shared",
            }
        ],
    },
}


def test_printable_status_names_become_states() -> None:
    assert [
        state_of(s) for s in ("Running", "ErrImagePull", "ErrorPvcNotFound", "CrashLoopBackOff", "WaitingForReceiver")
    ] == [
        "RUNNING",
        "ERR_IMAGE_PULL",
        "ERROR_PVC_NOT_FOUND",
        "CRASH_LOOP_BACK_OFF",
        "WAITING_FOR_RECEIVER",
    ]
    assert state_of("SomethingNew") == "UNKNOWN"


def test_a_vm_kubevirt_has_not_processed_yet_keeps_the_state_harrow_showed() -> None:
    fresh = {"metadata": {"name": "web", "generation": 1}}  # created a moment ago: no status at all
    seen = observe(
        vm=fresh,
        vmi=None,
        current_state="STARTING",
        current_conditions=[],
        observed_generation=0,
        deleting=False,
        now=NOW,
    )
    assert seen.state == "STARTING"  # not a passing UNKNOWN event on every Watch


def test_observe_reads_state_node_ips_conditions_and_generation() -> None:
    seen = observe(
        vm=_vm("Running"),
        vmi=VMI,
        current_state="STARTING",
        current_conditions=[],
        observed_generation=1,
        deleting=False,
        now=NOW,
    )
    assert seen.state == "RUNNING" and seen.observed_generation == 2 and seen.vmi_uid == "vmi-1"
    assert seen.status == {
        "node": "node-1",
        "ip_addresses": ["10.52.0.7", "fd00::7"],
        "migration_method": "BlockMigration",
    }
    live = next(c for c in seen.conditions if c["type"] == "LiveMigratable")
    assert live["status"] == "FALSE" and live["reason"] == "DisksNotLiveMigratable"
    assert "migration method BlockMigration" in live["message"]


def test_a_generation_the_cluster_has_not_processed_is_not_observed() -> None:
    seen = observe(
        vm=_vm("Running", annotated="3", seen=4),
        vmi=None,
        current_state="RUNNING",
        current_conditions=[],
        observed_generation=2,
        deleting=False,
        now=NOW,
    )
    assert seen.observed_generation == 2


def test_transition_time_moves_only_with_status() -> None:
    first = set_condition([], {"type": "Ready", "status": "TRUE"}, NOW)
    same = set_condition(first, {"type": "Ready", "status": "TRUE", "reason": "x"}, NOW + timedelta(minutes=1))
    flipped = set_condition(same, {"type": "Ready", "status": "FALSE"}, NOW + timedelta(minutes=2))
    assert same[0]["lastTransitionTime"] == first[0]["lastTransitionTime"] != flipped[0]["lastTransitionTime"]


def _judge(verb: str, state: str, **overrides: object):  # type: ignore[no-untyped-def]
    arguments: dict = dict(
        verb=verb,
        target_generation=2,
        newest_generation=2,
        progress=None,
        state=state,
        run_strategy="ALWAYS",
        observed_generation=2,
        vmi_uid="vmi-1",
        created=NOW,
        now=NOW + timedelta(seconds=1),
        deadline=timedelta(seconds=60),
    )
    arguments.update(overrides)
    return judge(**arguments)


def test_operations_finish_when_the_cluster_shows_their_result() -> None:
    assert _judge("create", "RUNNING").done
    assert not _judge("create", "STARTING").done
    assert not _judge("create", "RUNNING", observed_generation=1).done
    assert _judge("stop", "STOPPED", run_strategy="HALTED").done
    assert _judge("pause", "PAUSED").done and not _judge("pause", "RUNNING").done
    assert not _judge("restart", "RUNNING", progress={"vmi_uid": "vmi-1"}).done
    assert _judge("restart", "RUNNING", progress={"vmi_uid": "vmi-0"}).done
    assert (
        _judge("start", "STOPPED", target_generation=2, newest_generation=3).message == "superseded by a later change"
    )


def test_an_operation_past_its_deadline_fails_with_the_state_it_was_stuck_in() -> None:
    verdict = _judge("create", "ERROR_UNSCHEDULABLE", now=NOW + timedelta(seconds=61))
    assert verdict.failed and "ERROR_UNSCHEDULABLE" in verdict.message and "RUNNING" in verdict.message


def test_which_verbs_use_subresources() -> None:
    assert subresource_for("restart", "ALWAYS") == "restart"
    assert subresource_for("pause", "ALWAYS") == "pause"
    assert subresource_for("start", "MANUAL") == "start"
    assert subresource_for("start", "HALTED") is None
    assert subresource_for("stop", "ALWAYS") is None
