"""What the cluster shows, as Harrow status: pure functions of the cluster VM and VMI.

KubeVirt already condenses a VM's life into `printableStatus` (semantics.md
§2.7); Harrow shows that as its State rather than re-deriving it, so users see
the same word `kubectl get vm` prints. Conditions are kept Kubernetes-style:
`lastTransitionTime` moves only when a condition's status changes, so an
unchanged cluster produces no new Watch events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.domain import vm_state
from server.reconcile.translate import GENERATION_ANNOTATION

Obj = dict[str, Any]

_STATES = frozenset(vm_state.STATES)
# Conditions copied from the cluster objects; Harrow's own (Reconciled, DriftCorrected) are kept as they are.
_VM_CONDITIONS = ("Ready", "Paused")
_VMI_CONDITIONS = ("LiveMigratable",)
_CLUSTER_OWNED = frozenset((*_VM_CONDITIONS, *_VMI_CONDITIONS))


def state_of(printable_status: str) -> str:
    """`ErrImagePull` → `ERR_IMAGE_PULL`; a printableStatus Harrow does not know is UNKNOWN."""
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", printable_status).upper()
    return name if name in _STATES else "UNKNOWN"


@dataclass(frozen=True)
class Observed:
    state: str
    status: Obj
    conditions: list[Obj]
    observed_generation: int
    vmi_uid: str = ""
    extra: Obj = field(default_factory=dict)


def observe(
    *,
    vm: Obj | None,
    vmi: Obj | None,
    current_state: str,
    current_conditions: list[Obj],
    observed_generation: int,
    deleting: bool,
    now: datetime,
) -> Observed:
    """Harrow status from the cluster objects; with no cluster VM yet, what Harrow already showed stays."""
    if vm is None:
        return Observed(current_state, {}, list(current_conditions), observed_generation)
    vm_status = vm.get("status") or {}
    # A VM KubeVirt's controller has not looked at yet has no printableStatus: that says nothing about the
    # VM, so what Harrow showed (STARTING for a new VM that should run) stays rather than a passing UNKNOWN.
    printable = vm_status.get("printableStatus")
    state = "TERMINATING" if deleting else state_of(printable) if printable else current_state
    status: Obj = {}
    conditions = [c for c in current_conditions if c.get("type") not in _CLUSTER_OWNED]
    for condition in vm_status.get("conditions") or []:
        if condition.get("type") in _VM_CONDITIONS:
            conditions = set_condition(conditions, _from_kube(condition), now, current_conditions)
    vmi_uid = ""
    if vmi is not None and not (vmi.get("metadata") or {}).get("deletionTimestamp"):
        vmi_uid = str(vmi["metadata"].get("uid", ""))
        vmi_status = vmi.get("status") or {}
        if vmi_status.get("nodeName"):
            status["node"] = vmi_status["nodeName"]
        addresses: list[str] = []
        for interface in vmi_status.get("interfaces") or []:
            for address in interface.get("ipAddresses") or [interface.get("ipAddress")]:
                if address and address not in addresses:
                    addresses.append(address)
        if addresses:
            status["ip_addresses"] = addresses
        if vmi_status.get("migrationMethod"):
            status["migration_method"] = vmi_status["migrationMethod"]
        for condition in vmi_status.get("conditions") or []:
            if condition.get("type") in _VMI_CONDITIONS:
                converted = _from_kube(condition)
                if vmi_status.get("migrationMethod"):
                    method = f"migration method {vmi_status['migrationMethod']}"
                    converted["message"] = f"{converted['message']} ({method})" if converted.get("message") else method
                conditions = set_condition(conditions, converted, now, current_conditions)
    return Observed(state, status, conditions, _generation_shown(vm, observed_generation), vmi_uid)


def _generation_shown(vm: Obj, previous: int) -> int:
    """The Harrow generation the cluster shows: annotated on the object and seen by the cluster's controller."""
    metadata = vm.get("metadata") or {}
    annotated = (metadata.get("annotations") or {}).get(GENERATION_ANNOTATION)
    seen = (vm.get("status") or {}).get("observedGeneration")
    if annotated is None or seen is None or int(seen) < int(metadata.get("generation", 0)):
        return previous
    return max(previous, int(annotated))


def _from_kube(condition: Obj) -> Obj:
    out: Obj = {"type": condition["type"], "status": str(condition.get("status", "Unknown")).upper()}
    if condition.get("reason"):
        out["reason"] = condition["reason"]
    if condition.get("message"):
        out["message"] = condition["message"]
    return out


def set_condition(conditions: list[Obj], condition: Obj, now: datetime, previous: list[Obj] | None = None) -> list[Obj]:
    """`conditions` with `condition` in place of its type; the transition time moves only when status does."""
    before = next(
        (c for c in (previous if previous is not None else conditions) if c.get("type") == condition["type"]), None
    )
    merged = dict(condition)
    if before is not None and before.get("status") == condition.get("status") and before.get("lastTransitionTime"):
        merged["lastTransitionTime"] = before["lastTransitionTime"]
    else:
        merged["lastTransitionTime"] = now.isoformat().replace("+00:00", "Z")
    out = [c for c in conditions if c.get("type") != condition["type"]]
    out.append(merged)
    return sorted(out, key=lambda c: str(c.get("type")))
