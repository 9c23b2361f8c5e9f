"""IpPool intent + its ledger → the loadbalancer.harvesterhci.io/v1beta1 IPPool mirror on the cluster.

Harrow allocates; the mirror lets Harvester's tooling (and its load balancer
controller, which reads `status.allocated`) see the same truth. The CRD has no
status subresource (semantics.md §1.1), so spec and status are one object,
written whole: both belong to Harrow, and anything else in them is drift.

Pure, like translate(): the same pool and ledger give the same object. The
status carries a digest annotation so a worker can tell "someone edited the
status" from "the ledger moved on" without reading the ledger.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from server.reconcile.translate import GENERATION_ANNOTATION, MANAGED_BY, UID_LABEL, differences

Obj = dict[str, Any]
GROUP, VERSION, PLURAL = "loadbalancer.harvesterhci.io", "v1beta1", "ippools"
STATUS_DIGEST_ANNOTATION = "harrow.io/status-digest"
# Harvester's mutator labels the global pool (one all-"*" scope) so its selector can find it (semantics.md §1.4).
GLOBAL_LABEL = "loadbalancer.harvesterhci.io/global-ip-pool"
# The CRD's counts are int64; an IPv6 /64 holds more, so the mirror says "at least this many".
INT64_MAX = 2**63 - 1
WILDCARD = "*"


@dataclass(frozen=True)
class PoolIntent:
    pool_id: str
    uid: str
    generation: int
    spec: Obj
    # When the pool was created (RFC 3339): the Ready condition's transition time, so it never churns.
    since: str
    allocated: dict[str, str] = field(default_factory=dict)
    history: dict[str, str] = field(default_factory=dict)
    last_allocated: str = ""
    total: int = 0


def mirror_spec(spec: Obj) -> Obj:
    """The IPPool spec: Harrow's snake_case ranges and selector in Harvester's field names."""
    ranges = []
    for item in spec.get("ranges", []):
        out = {"subnet": item["subnet"]}
        for source, target in (("range_start", "rangeStart"), ("range_end", "rangeEnd"), ("gateway", "gateway")):
            if item.get(source):
                out[target] = item[source]
        ranges.append(out)
    mirrored: Obj = {"ranges": ranges}
    if spec.get("description"):
        mirrored["description"] = spec["description"]
    selector = spec.get("selector") or {}
    if selector:
        out_selector: Obj = {}
        if selector.get("priority"):
            out_selector["priority"] = int(selector["priority"])
        if selector.get("network"):
            out_selector["network"] = selector["network"]
        scopes = [
            {
                key: scope[source]
                for source, key in (
                    ("project", "project"),
                    ("namespace", "namespace"),
                    ("guest_cluster", "guestCluster"),
                )
                if scope.get(source)
            }
            for scope in selector.get("scopes", [])
        ]
        if scopes:
            out_selector["scope"] = scopes
        mirrored["selector"] = out_selector
    return mirrored


def is_global(spec: Obj) -> bool:
    scopes = (spec.get("selector") or {}).get("scopes", [])
    return len(scopes) == 1 and all(scopes[0].get(key) == WILDCARD for key in ("project", "namespace", "guest_cluster"))


def mirror_labels(pool: PoolIntent) -> dict[str, str]:
    return {
        MANAGED_BY[0]: MANAGED_BY[1],
        UID_LABEL: pool.uid,
        GLOBAL_LABEL: "true" if is_global(pool.spec) else "false",
    }


def status_digest(status: Obj) -> str:
    return hashlib.sha256(json.dumps(status, sort_keys=True).encode()).hexdigest()[:16]


def translate_ip_pool(pool: PoolIntent) -> Obj:
    status: Obj = {
        "total": min(pool.total, INT64_MAX),
        "available": min(pool.total - len(pool.allocated), INT64_MAX),
        "lastAllocated": pool.last_allocated,
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": pool.since}],
    }
    if pool.allocated:
        status["allocated"] = dict(sorted(pool.allocated.items()))
    if pool.history:
        status["allocatedHistory"] = dict(sorted(pool.history.items()))
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "IPPool",
        "metadata": {
            "name": pool.pool_id,
            "labels": mirror_labels(pool),
            "annotations": {
                GENERATION_ANNOTATION: str(pool.generation),
                STATUS_DIGEST_ANNOTATION: status_digest(status),
            },
        },
        "spec": mirror_spec(pool.spec),
        "status": status,
    }


def edited(desired: Obj, actual: Obj) -> list[str]:
    """What differs between the mirror Harrow wants and the cluster's, beyond a ledger that moved on.

    Labels and spec are compared with the intent; the status with the digest annotated when it was
    written, so a status changed by someone else shows even while the desired status is a newer one.
    """
    found = differences({"labels": desired["metadata"]["labels"]}, actual.get("metadata") or {})
    if actual.get("spec") != desired["spec"]:
        found.append("spec")
    annotations = (actual.get("metadata") or {}).get("annotations") or {}
    if annotations.get(STATUS_DIGEST_ANNOTATION) != status_digest(actual.get("status") or {}):
        found.append("status")
    return found


def same(desired: Obj, actual: Obj) -> bool:
    """Whether the cluster's mirror already is the desired one (nothing to write)."""
    metadata = actual.get("metadata") or {}
    return (
        not differences({"labels": desired["metadata"]["labels"]}, metadata)
        and not differences({"annotations": desired["metadata"]["annotations"]}, metadata)
        and actual.get("spec") == desired["spec"]
        and actual.get("status") == desired["status"]
    )
