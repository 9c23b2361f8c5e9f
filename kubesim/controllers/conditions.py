"""Condition lists updated the way Kubernetes controllers do.

``lastTransitionTime`` moves only when ``status`` flips, so clients that wait
on a condition see stable timestamps across unrelated status writes.
"""

from __future__ import annotations

from typing import Any


def set_condition(
    conds: list[dict[str, Any]], ctype: str, status: str, stamp: str, reason: str = "", message: str = ""
) -> list[dict[str, Any]]:
    old = next((c for c in conds if c.get("type") == ctype), None)
    new: dict[str, Any] = {
        "type": ctype,
        "status": status,
        "lastProbeTime": None,
        "lastTransitionTime": stamp if old is None or old.get("status") != status else old.get("lastTransitionTime"),
    }
    if reason:
        new["reason"] = reason
    if message:
        new["message"] = message
    return [c for c in conds if c.get("type") != ctype] + [new]


def drop_condition(conds: list[dict[str, Any]], ctype: str) -> list[dict[str, Any]]:
    return [c for c in conds if c.get("type") != ctype]


def condition(obj: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == ctype), None)


def is_true(obj: dict[str, Any], ctype: str) -> bool:
    cond = condition(obj, ctype)
    return cond is not None and cond.get("status") == "True"
