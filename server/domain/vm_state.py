"""Which lifecycle actions a VM accepts, and what they do to its run strategy.

Harrow answers Start/Stop/Restart/Pause/Unpause itself, from the state it last
observed, instead of letting the request fail later on the cluster: the
caller gets FAILED_PRECONDITION at once, naming the state and what would have
been allowed, and `status.allowed_actions` shows the same answer up front.

The rules follow KubeVirt's own subresource handlers
(pkg/virt-api/rest/subresource.go, since split into lifecycle.go), which
refuse with 409 Conflict. Harrow sees KubeVirt's printableStatus rather than
the VMI phase, so each state below stands for the VMI phases it implies.

Everything here works on the proto enum names as plain strings so the domain
stays free of generated code.
"""

from __future__ import annotations

from server.domain.errors import FailedPrecondition

ACTIONS = ("START", "STOP", "RESTART", "PAUSE", "UNPAUSE")
RUN_STRATEGIES = ("ALWAYS", "HALTED", "MANUAL", "RERUN_ON_FAILURE")
STATES = (
    "STOPPED",
    "PROVISIONING",
    "STARTING",
    "RUNNING",
    "PAUSED",
    "STOPPING",
    "TERMINATING",
    "CRASH_LOOP_BACK_OFF",
    "MIGRATING",
    "UNKNOWN",
    "ERROR_UNSCHEDULABLE",
    "ERR_IMAGE_PULL",
    "IMAGE_PULL_BACK_OFF",
    "ERROR_PVC_NOT_FOUND",
    "DATA_VOLUME_ERROR",
    "WAITING_FOR_VOLUME_BINDING",
    "WAITING_FOR_RECEIVER",
)

# The VM is already going away; KubeVirt would race the deletion, so Harrow
# offers nothing until the state settles.
_LEAVING = frozenset({"STOPPING", "TERMINATING"})
# A VMI exists and is not final: the guest runs, or its pod is being
# scheduled, pulled or bound. KubeVirt's start handler refuses these with
# "VM is already running"; its stop handler accepts them.
_LIVE = frozenset(
    {
        "STARTING",
        "RUNNING",
        "PAUSED",
        "MIGRATING",
        "ERROR_UNSCHEDULABLE",
        "ERR_IMAGE_PULL",
        "IMAGE_PULL_BACK_OFF",
        "WAITING_FOR_VOLUME_BINDING",
        "WAITING_FOR_RECEIVER",
    }
)
# UNKNOWN is the one state in neither group: KubeVirt lets start through a VMI
# in phase Unknown, and lets stop through any VMI that is not final.


def expected_state(run_strategy: str) -> str:
    """What to show for a VM the cluster has not reported yet: what it is heading for."""
    _check_name(run_strategy, RUN_STRATEGIES, "run strategy")
    return "STOPPED" if run_strategy in ("HALTED", "MANUAL") else "STARTING"


def allowed_actions(state: str, run_strategy: str) -> list[str]:
    """The actions `check_action` accepts, in the proto's Action order."""
    _check_name(state, STATES, "state")
    _check_name(run_strategy, RUN_STRATEGIES, "run strategy")
    if state in _LEAVING:
        return []
    if run_strategy == "HALTED" and state in _LIVE:
        # The spec already says stop and the cluster has not caught up: this is
        # STOPPING in all but name. KubeVirt refuses start ("VM is already
        # running"), stop and restart (see below); pause/unpause would race it.
        return []
    return [action for action in ACTIONS if _ALLOWS[action](state, run_strategy)]


def check_action(action: str, state: str, run_strategy: str) -> None:
    """Refuse `action` unless the VM accepts it now, saying what it would accept."""
    _check_name(action, ACTIONS, "action")
    allowed = allowed_actions(state, run_strategy)
    if action in allowed:
        return
    listed = ", ".join(allowed) or "none"
    raise FailedPrecondition(
        f"cannot {action.lower()}: the VM is {state}; allowed actions: {listed}",
        reason="ACTION_NOT_ALLOWED",
        metadata={"state": state, "allowed_actions": ",".join(allowed)},
    )


def run_strategy_after(action: str, run_strategy: str) -> str:
    """The run strategy an action leaves in the spec.

    Start and stop on ALWAYS/HALTED rewrite the spec, as KubeVirt's handlers
    patch `spec.runStrategy`. MANUAL never changes: KubeVirt sends a state
    change request instead. RERUN_ON_FAILURE is stopped to HALTED, which was
    KubeVirt's behaviour before v1.2 (kubevirt#7295, changed by #10639): Harrow
    realises intent from the spec alone, and a stopped VM whose spec still says
    RERUN_ON_FAILURE would be started again by the next reconcile. Starting a
    RERUN_ON_FAILURE VM (one whose guest shut itself down) keeps the strategy.
    """
    _check_name(action, ACTIONS, "action")
    _check_name(run_strategy, RUN_STRATEGIES, "run strategy")
    if action == "START" and run_strategy == "HALTED":
        return "ALWAYS"
    if action == "STOP" and run_strategy in ("ALWAYS", "RERUN_ON_FAILURE"):
        return "HALTED"
    return run_strategy


def _can_start(state: str, run_strategy: str) -> bool:
    # "Always does not support manual start requests": it is already meant to run.
    if run_strategy == "ALWAYS":
        return False
    # RerunOnFailure restarts a failed guest by itself, and KubeVirt refuses
    # "RerunOnFailure does not support starting VM from failed state". Start
    # is for a guest that shut itself down (VMI Succeeded, KubeVirt's
    # needsRestart path), or an unknown one.
    if run_strategy == "RERUN_ON_FAILURE":
        return state in ("STOPPED", "UNKNOWN")
    # "VM is already running" for any VMI that is not final (or Unknown).
    return state not in _LIVE


def _can_stop(state: str, run_strategy: str) -> bool:
    # Nothing left to stop. Under HALTED a VM is stopped or on its way: KubeVirt
    # refuses "Halted only supports manual stop requests with a shorter
    # graceperiod", and Harrow's Stop has no grace period.
    if state == "STOPPED" or run_strategy == "HALTED":
        return False
    # Manual: "VM is not running" unless a non-final VMI exists, since the stop
    # is a request to the VMI rather than a spec change.
    if run_strategy == "MANUAL":
        return state in _LIVE or state == "UNKNOWN"
    # Always (and RerunOnFailure, see run_strategy_after) is stopped by patching
    # the spec to Halted, which KubeVirt accepts whatever the VMI is doing, so a
    # VM stuck starting or crash-looping can always be stopped.
    return True


def _can_restart(state: str, run_strategy: str) -> bool:
    # KubeVirt needs a VMI to restart ("VM is not running") and refuses
    # "RunStategy Halted does not support manual restart requests" (HALTED
    # with a live VMI is filtered out above). Harrow asks for a running guest
    # so a restart is not mistaken for a fix to a VM that never started.
    return state == "RUNNING"


def _can_pause(state: str, run_strategy: str) -> bool:
    # Pause acts on the VMI: "VM is not running" unless phase Running, "VMI is
    # already paused", and "Cannot pause VM ... currently being migrated".
    return state == "RUNNING"


def _can_unpause(state: str, run_strategy: str) -> bool:
    # "VMI is not paused" otherwise.
    return state == "PAUSED"


_ALLOWS = {
    "START": _can_start,
    "STOP": _can_stop,
    "RESTART": _can_restart,
    "PAUSE": _can_pause,
    "UNPAUSE": _can_unpause,
}


def _check_name(name: str, known: tuple[str, ...], what: str) -> None:
    # Callers pass proto enum names; anything else (including *_UNSPECIFIED)
    # is a bug in the caller, not bad user input.
    if name not in known:
        raise ValueError(f"unknown {what} {name!r}")
