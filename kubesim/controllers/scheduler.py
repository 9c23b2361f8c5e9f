"""Placement of VMI launcher pods, with the kube-scheduler's filters that matter for VMs.

Filters: node Ready and not cordoned, nodeSelector, required node affinity
(matchExpressions and matchFields), NoSchedule/NoExecute taints against
tolerations, and CPU/memory requests against allocatable minus what VMIs
already placed there request. Among fitting nodes the least-allocated memory
wins, names breaking ties, so placement is deterministic in tests.
"""

from __future__ import annotations

from typing import Any

from ..quantity import parse

Obj = dict[str, Any]


def requests(vmi: Obj) -> tuple[float, float]:
    """(cpu cores, memory bytes) a VMI's launcher pod requests."""
    domain = vmi.get("spec", {}).get("domain", {})
    res = domain.get("resources", {})
    req = {**(res.get("limits") or {}), **(res.get("requests") or {})}
    memory = parse(req.get("memory")) or parse((domain.get("memory") or {}).get("guest"))
    cpu = parse(req.get("cpu"))
    if not cpu:
        c = domain.get("cpu") or {}
        cpu = 0.1 * int(c.get("cores", 1)) * int(c.get("sockets", 1)) * int(c.get("threads", 1))
    return cpu, memory


def _expr(labels: dict[str, str], expr: Obj) -> bool:
    key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt") and key in labels and values:
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def _affinity(node: Obj, spec: Obj) -> bool:
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    labels = node["metadata"].get("labels") or {}
    fields = {"metadata.name": node["metadata"]["name"]}
    return any(
        all(_expr(labels, e) for e in term.get("matchExpressions") or [])
        and all(_expr(fields, e) for e in term.get("matchFields") or [])
        for term in terms
    )


def _tolerated(taint: Obj, tolerations: list[Obj]) -> bool:
    for tol in tolerations:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists":
            if not tol.get("key") or tol["key"] == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and tol.get("value", "") == taint.get("value", ""):
            return True
    return False


def node_ready(node: Obj) -> bool:
    conds = node.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


def why_not(node: Obj, spec: Obj, need: tuple[float, float], used: tuple[float, float]) -> str | None:
    """The reason ``node`` cannot take a pod with ``spec``, or None if it fits."""
    if not node_ready(node):
        return "node(s) were not ready"
    if node.get("spec", {}).get("unschedulable"):
        return "node(s) were unschedulable"
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return "node(s) didn't match Pod's node affinity/selector"
    if not _affinity(node, spec):
        return "node(s) didn't match Pod's node affinity/selector"
    for taint in node.get("spec", {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerated(taint, spec.get("tolerations") or []):
            return "node(s) had untolerated taint"
    alloc = node.get("status", {}).get("allocatable") or {}
    if used[0] + need[0] > parse(alloc.get("cpu")):
        return "Insufficient cpu"
    if used[1] + need[1] > parse(alloc.get("memory")):
        return "Insufficient memory"
    return None


def place(
    nodes: list[Obj],
    spec: Obj,
    need: tuple[float, float],
    usage: dict[str, tuple[float, float]],
    exclude: str | None = None,
) -> tuple[str | None, str]:
    """Pick a node; on failure return the scheduler-style message."""
    fits: list[tuple[float, str]] = []
    reasons: dict[str, int] = {}
    for node in nodes:
        name = node["metadata"]["name"]
        if name == exclude:
            reasons["node(s) didn't match pod anti-affinity rules"] = (
                reasons.get("node(s) didn't match pod anti-affinity rules", 0) + 1
            )
            continue
        used = usage.get(name, (0.0, 0.0))
        reason = why_not(node, spec, need, used)
        if reason is None:
            fits.append((used[1] - parse((node.get("status", {}).get("allocatable") or {}).get("memory")), name))
        else:
            reasons[reason] = reasons.get(reason, 0) + 1
    if fits:
        return min(fits)[1], ""
    detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
    return None, f"0/{len(nodes)} nodes are available: {detail}."
