from collections.abc import Callable

import pytest

from server.domain.errors import FailedPrecondition
from server.domain.vm_state import (
    ACTIONS,
    RUN_STRATEGIES,
    STATES,
    allowed_actions,
    check_action,
    expected_state,
    run_strategy_after,
)

# Every state Harrow shows while a pod exists for the VM and is not finished.
LIVE = [
    "STARTING",
    "RUNNING",
    "PAUSED",
    "MIGRATING",
    "ERROR_UNSCHEDULABLE",
    "ERR_IMAGE_PULL",
    "IMAGE_PULL_BACK_OFF",
    "WAITING_FOR_VOLUME_BINDING",
    "WAITING_FOR_RECEIVER",
]
NOT_LIVE = [s for s in STATES if s not in LIVE and s not in ("STOPPING", "TERMINATING")]


@pytest.mark.parametrize(
    ("run_strategy", "state"),
    [("HALTED", "STOPPED"), ("MANUAL", "STOPPED"), ("ALWAYS", "STARTING"), ("RERUN_ON_FAILURE", "STARTING")],
)
def test_expected_state_before_the_cluster_reports(run_strategy: str, state: str) -> None:
    assert expected_state(run_strategy) == state


@pytest.mark.parametrize(
    ("state", "run_strategy", "actions"),
    [
        ("STOPPED", "HALTED", ["START"]),
        ("STOPPED", "MANUAL", ["START"]),
        ("STOPPED", "RERUN_ON_FAILURE", ["START"]),
        ("STOPPED", "ALWAYS", []),
        ("RUNNING", "ALWAYS", ["STOP", "RESTART", "PAUSE"]),
        ("RUNNING", "MANUAL", ["STOP", "RESTART", "PAUSE"]),
        ("RUNNING", "RERUN_ON_FAILURE", ["STOP", "RESTART", "PAUSE"]),
        ("RUNNING", "HALTED", []),
        ("PAUSED", "ALWAYS", ["STOP", "UNPAUSE"]),
        ("PAUSED", "MANUAL", ["STOP", "UNPAUSE"]),
        ("PAUSED", "HALTED", []),
        ("MIGRATING", "ALWAYS", ["STOP"]),
        ("STARTING", "ALWAYS", ["STOP"]),
        ("STARTING", "MANUAL", ["STOP"]),
        ("STARTING", "HALTED", []),
        ("ERROR_UNSCHEDULABLE", "RERUN_ON_FAILURE", ["STOP"]),
        ("CRASH_LOOP_BACK_OFF", "ALWAYS", ["STOP"]),
        ("CRASH_LOOP_BACK_OFF", "RERUN_ON_FAILURE", ["STOP"]),
        ("CRASH_LOOP_BACK_OFF", "MANUAL", ["START"]),
        ("CRASH_LOOP_BACK_OFF", "HALTED", ["START"]),
        ("PROVISIONING", "HALTED", ["START"]),
        ("PROVISIONING", "ALWAYS", ["STOP"]),
        ("PROVISIONING", "RERUN_ON_FAILURE", ["STOP"]),
        ("ERROR_PVC_NOT_FOUND", "MANUAL", ["START"]),
        ("DATA_VOLUME_ERROR", "ALWAYS", ["STOP"]),
        ("UNKNOWN", "MANUAL", ["START", "STOP"]),
        ("UNKNOWN", "RERUN_ON_FAILURE", ["START", "STOP"]),
        ("UNKNOWN", "ALWAYS", ["STOP"]),
        ("UNKNOWN", "HALTED", ["START"]),
    ],
)
def test_allowed_actions(state: str, run_strategy: str, actions: list[str]) -> None:
    assert allowed_actions(state, run_strategy) == actions


@pytest.mark.parametrize("state", ["STOPPING", "TERMINATING"])
@pytest.mark.parametrize("run_strategy", RUN_STRATEGIES)
def test_nothing_is_allowed_while_the_vm_goes_away(state: str, run_strategy: str) -> None:
    assert allowed_actions(state, run_strategy) == []


@pytest.mark.parametrize("run_strategy", RUN_STRATEGIES)
@pytest.mark.parametrize("state", LIVE)
def test_start_is_refused_while_a_vmi_is_live(state: str, run_strategy: str) -> None:
    assert "START" not in allowed_actions(state, run_strategy)


@pytest.mark.parametrize("state", STATES)
def test_always_never_accepts_start(state: str) -> None:
    assert "START" not in allowed_actions(state, "ALWAYS")


@pytest.mark.parametrize("state", NOT_LIVE)
def test_halted_and_stopped_vms_can_be_started(state: str) -> None:
    assert allowed_actions(state, "HALTED") == ["START"]


@pytest.mark.parametrize("state", [s for s in NOT_LIVE if s != "UNKNOWN"])
def test_manual_stop_needs_a_live_vmi(state: str) -> None:
    assert "STOP" not in allowed_actions(state, "MANUAL")


@pytest.mark.parametrize("state", [s for s in STATES if s not in ("STOPPED", "STOPPING", "TERMINATING")])
@pytest.mark.parametrize("run_strategy", ["ALWAYS", "RERUN_ON_FAILURE"])
def test_vms_meant_to_run_can_always_be_stopped(state: str, run_strategy: str) -> None:
    assert "STOP" in allowed_actions(state, run_strategy)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("run_strategy", RUN_STRATEGIES)
def test_restart_pause_unpause_need_a_running_or_paused_guest(state: str, run_strategy: str) -> None:
    allowed = allowed_actions(state, run_strategy)
    assert ("RESTART" in allowed) == (state == "RUNNING" and run_strategy != "HALTED")
    assert ("PAUSE" in allowed) == (state == "RUNNING" and run_strategy != "HALTED")
    assert ("UNPAUSE" in allowed) == (state == "PAUSED" and run_strategy != "HALTED")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("run_strategy", RUN_STRATEGIES)
def test_allowed_actions_keep_the_proto_order(state: str, run_strategy: str) -> None:
    allowed = allowed_actions(state, run_strategy)
    assert allowed == [a for a in ACTIONS if a in allowed]


def test_check_action_accepts_an_allowed_action() -> None:
    check_action("PAUSE", "RUNNING", "ALWAYS")
    check_action("START", "STOPPED", "HALTED")


def test_check_action_names_the_state_and_the_alternatives() -> None:
    with pytest.raises(FailedPrecondition) as caught:
        check_action("PAUSE", "STOPPED", "HALTED")
    error = caught.value
    assert error.message == "cannot pause: the VM is STOPPED; allowed actions: START"
    assert error.reason == "ACTION_NOT_ALLOWED"
    assert error.code == "FAILED_PRECONDITION"
    assert error.metadata == {"state": "STOPPED", "allowed_actions": "START"}


def test_check_action_lists_several_alternatives() -> None:
    with pytest.raises(FailedPrecondition) as caught:
        check_action("UNPAUSE", "RUNNING", "MANUAL")
    assert caught.value.message == "cannot unpause: the VM is RUNNING; allowed actions: STOP, RESTART, PAUSE"
    assert caught.value.metadata == {"state": "RUNNING", "allowed_actions": "STOP,RESTART,PAUSE"}


def test_check_action_when_nothing_is_allowed() -> None:
    with pytest.raises(FailedPrecondition) as caught:
        check_action("STOP", "TERMINATING", "ALWAYS")
    assert caught.value.message == "cannot stop: the VM is TERMINATING; allowed actions: none"
    assert caught.value.metadata == {"state": "TERMINATING", "allowed_actions": ""}


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [
        ("START", "HALTED", "ALWAYS"),
        ("START", "MANUAL", "MANUAL"),
        ("START", "RERUN_ON_FAILURE", "RERUN_ON_FAILURE"),
        ("START", "ALWAYS", "ALWAYS"),
        ("STOP", "ALWAYS", "HALTED"),
        ("STOP", "RERUN_ON_FAILURE", "HALTED"),
        ("STOP", "MANUAL", "MANUAL"),
        ("STOP", "HALTED", "HALTED"),
    ],
)
def test_run_strategy_after_start_and_stop(action: str, before: str, after: str) -> None:
    assert run_strategy_after(action, before) == after


@pytest.mark.parametrize("action", ["RESTART", "PAUSE", "UNPAUSE"])
@pytest.mark.parametrize("run_strategy", RUN_STRATEGIES)
def test_other_actions_leave_the_run_strategy(action: str, run_strategy: str) -> None:
    assert run_strategy_after(action, run_strategy) == run_strategy


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: expected_state("RUN_STRATEGY_UNSPECIFIED"),
            "unknown run strategy 'RUN_STRATEGY_UNSPECIFIED'",
        ),
        (lambda: allowed_actions("RUNNING", "Always"), "unknown run strategy 'Always'"),
        (lambda: allowed_actions("STATE_UNSPECIFIED", "ALWAYS"), "unknown state 'STATE_UNSPECIFIED'"),
        (lambda: check_action("REBOOT", "RUNNING", "ALWAYS"), "unknown action 'REBOOT'"),
        (lambda: run_strategy_after("start", "HALTED"), "unknown action 'start'"),
    ],
)
def test_names_outside_the_proto_enums_are_caller_bugs(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        call()
    assert str(caught.value) == message
