"""The IPPool mirror: validates against Harvester's real CRD schema, and tells drift from a ledger that moved on."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from server.reconcile.translate_ip_pool import INT64_MAX, PoolIntent, edited, same, translate_ip_pool
from tests.unit.reconcile.test_translate import SCHEMAS, _crd_schema, _pruned

SPEC: dict[str, Any] = {
    "description": "lab",
    "ranges": [
        {"subnet": "10.0.0.0/24", "range_start": "10.0.0.10", "range_end": "10.0.0.20", "gateway": "10.0.0.1"},
        {"subnet": "fd00::/64"},
    ],
    "selector": {
        "priority": 5,
        "network": "default/vlan10",
        "scopes": [{"project": "p", "namespace": "*", "guest_cluster": "c1"}],
    },
}


def _pool(**overrides: Any) -> PoolIntent:
    fields: dict[str, Any] = {
        "pool_id": "lab",
        "uid": "3c7e0a3e-5b0e-4f39-9f5e-0f3a0d9c1b11",
        "generation": 2,
        "spec": SPEC,
        "since": "2026-11-22T10:00:00Z",
        "allocated": {
            "10.0.0.10": "default/lb-1",
            "fd00::2": "clusters/local/namespaces/a/virtualMachines/v/interfaces/n",
        },
        "history": {"10.0.0.11": "default/lb-old"},
        "last_allocated": "fd00::2",
        "total": 10 + 2**64 - 2,
        **overrides,
    }
    return PoolIntent(**fields)


@pytest.mark.parametrize(
    "pool", [_pool(), _pool(allocated={}, history={}, last_allocated="", spec={"ranges": SPEC["ranges"][:1]})]
)
def test_the_mirror_validates_against_the_harvester_crd_and_keeps_every_field(pool: PoolIntent) -> None:
    schema = _crd_schema(SCHEMAS / "harvester-load-balancer" / "crd-ippools.yaml")
    mirror = translate_ip_pool(pool)
    jsonschema.Draft7Validator(schema).validate(mirror)
    assert _pruned(mirror, schema) == []


def test_spec_status_and_labels_in_harvester_terms() -> None:
    mirror = translate_ip_pool(_pool())
    assert mirror["metadata"]["name"] == "lab" and "namespace" not in mirror["metadata"]
    assert mirror["spec"] == {
        "ranges": [
            {"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.10", "rangeEnd": "10.0.0.20", "gateway": "10.0.0.1"},
            {"subnet": "fd00::/64"},
        ],
        "description": "lab",
        "selector": {
            "priority": 5,
            "network": "default/vlan10",
            "scope": [{"project": "p", "namespace": "*", "guestCluster": "c1"}],
        },
    }
    status = mirror["status"]
    assert status["total"] == status["available"] == INT64_MAX, "an IPv6 /64 overflows the CRD's int64: clamped"
    assert status["allocated"]["10.0.0.10"] == "default/lb-1" and status["allocatedHistory"] == {
        "10.0.0.11": "default/lb-old"
    }
    assert status["lastAllocated"] == "fd00::2"
    assert status["conditions"] == [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-22T10:00:00Z"}]
    labels = mirror["metadata"]["labels"]
    assert labels["loadbalancer.harvesterhci.io/global-ip-pool"] == "false"
    assert labels["harrow.io/uid"] == _pool().uid and mirror["metadata"]["annotations"]["harrow.io/generation"] == "2"


def test_a_single_all_wildcard_scope_is_the_global_pool_and_ipv4_counts_are_exact() -> None:
    spec = {
        "ranges": [{"subnet": "192.168.0.0/24"}],
        "selector": {"scopes": [{"project": "*", "namespace": "*", "guest_cluster": "*"}]},
    }
    mirror = translate_ip_pool(_pool(spec=spec, total=253, allocated={"192.168.0.2": "a/b"}, history={}))
    assert mirror["metadata"]["labels"]["loadbalancer.harvesterhci.io/global-ip-pool"] == "true"
    assert (mirror["status"]["total"], mirror["status"]["available"]) == (253, 252)


def test_an_edited_status_is_drift_but_a_newer_ledger_is_not() -> None:
    written = translate_ip_pool(_pool())
    newer = translate_ip_pool(_pool(allocated={**_pool().allocated, "10.0.0.12": "default/lb-2"}))
    assert not same(newer, written), "the ledger moved on: the mirror is rewritten"
    assert edited(newer, written) == [], "…but nobody edited it"
    tampered = {**written, "status": {**written["status"], "allocated": {}}}
    assert edited(newer, tampered) == ["status"]
    respecced = {**written, "spec": {"ranges": [{"subnet": "10.9.0.0/16"}]}}
    assert edited(newer, respecced) == ["spec"]
    assert same(written, {**written, "metadata": {**written["metadata"], "resourceVersion": "7"}})
