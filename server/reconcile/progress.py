"""When an Operation is finished: the cluster shows its result, or it never will.

An Operation is done only when the cluster shows what was asked (DESIGN §4):
the target generation observed *and* the state the verb leads to. A verb
overtaken by a later change (a Start followed by a Stop) is done once its
generation is observed, since its end state will never appear. Anything else
fails with DEADLINE_EXCEEDED after the configured deadline, naming the state
the VM was stuck in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# The verbs the cluster is asked through subresources.kubevirt.io rather than through the spec.
SUBRESOURCE_VERBS = {"restart": "restart", "pause": "pause", "unpause": "unpause"}
# Start/Stop of a Manual (or RerunOnFailure start) VM leave the spec alone: KubeVirt takes a request instead.
REQUEST_RUN_STRATEGIES = {"start": ("MANUAL", "RERUN_ON_FAILURE"), "stop": ("MANUAL",)}


def subresource_for(verb: str, run_strategy: str) -> str | None:
    """The KubeVirt subresource this operation calls, if any."""
    if verb in SUBRESOURCE_VERBS:
        return SUBRESOURCE_VERBS[verb]
    if run_strategy in REQUEST_RUN_STRATEGIES.get(verb, ()):
        return verb
    return None


def target_states(verb: str, run_strategy: str) -> frozenset[str]:
    if verb in ("start", "unpause", "restart"):
        return frozenset({"RUNNING"})
    if verb == "stop":
        return frozenset({"STOPPED"})
    if verb == "pause":
        return frozenset({"PAUSED"})
    if run_strategy in ("ALWAYS", "RERUN_ON_FAILURE"):
        return frozenset({"RUNNING"})
    if run_strategy == "HALTED":
        return frozenset({"STOPPED"})
    return frozenset({"RUNNING", "STOPPED", "PAUSED"})


@dataclass(frozen=True)
class Verdict:
    done: bool
    failed: bool = False
    message: str = ""


PENDING = Verdict(done=False)


def judge(
    *,
    verb: str,
    target_generation: int,
    newest_generation: int,
    progress: dict[str, Any] | None,
    state: str,
    run_strategy: str,
    observed_generation: int,
    vmi_uid: str,
    created: datetime,
    now: datetime,
    deadline: timedelta,
) -> Verdict:
    """Whether the operation is finished (delete operations finish when the row is purged, not here)."""
    if verb == "delete":
        return PENDING
    shown = observed_generation >= target_generation
    if shown and target_generation < newest_generation:
        return Verdict(done=True, message="superseded by a later change")
    wanted = target_states(verb, run_strategy)
    if shown and state in wanted and _restart_done(verb, progress, vmi_uid):
        return Verdict(done=True, message=f"the cluster shows {state}")
    if now - created > deadline:
        expected = " or ".join(sorted(wanted))
        seen = f"generation {observed_generation}" if not shown else state
        return Verdict(
            done=True,
            failed=True,
            message=f"{verb} did not finish within {int(deadline.total_seconds())}s: waiting for {expected}, "
            f"the cluster shows {seen}",
        )
    return PENDING


def _restart_done(verb: str, progress: dict[str, Any] | None, vmi_uid: str) -> bool:
    """A restart is done when a different VMI than the one it replaced runs."""
    if verb != "restart":
        return True
    return progress is not None and bool(vmi_uid) and vmi_uid != progress.get("vmi_uid")
