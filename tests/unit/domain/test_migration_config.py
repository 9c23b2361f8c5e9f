"""Effective migration configuration: KubeVirt's defaults by version, the cluster layer, the policy layer.

Defaults: kubevirt `pkg/virt-config/virt-config.go` and `configuration.go` `defaultClusterConfig`
(semantics.md §2.3); completionTimeoutPerGiB 800 → 150 in commit 5080d817f1 (v1.4.0), bandwidth
64Mi → 0 in ba569ec0bb (v0.44). Merge: v1.8.4 `MigrationPolicy.GetMigrationConfByPolicy`, virt-config
`GetMigrationConfiguration` (allowWorkloadDisruption follows allowPostCopy when unset).
"""

from __future__ import annotations

import pytest

from server.domain.migration_config import completion_timeout, defaults, effective


@pytest.mark.parametrize(
    ("version", "per_gib", "bandwidth"),
    [
        ("v1.8.4", 150, "0Mi"),
        ("v1.4.0", 150, "0Mi"),
        ("v1.3.1", 800, "0Mi"),
        ("v0.44.0", 800, "0Mi"),
        ("v0.43.0", 800, "64Mi"),
    ],
)
def test_defaults_follow_the_kubevirt_version(version: str, per_gib: int, bandwidth: str) -> None:
    settings, detail = defaults(version)
    assert (settings.completion_timeout_per_gib, settings.bandwidth_per_migration) == (per_gib, bandwidth)
    assert (settings.parallel_migrations_per_cluster, settings.parallel_outbound_migrations_per_node) == (5, 2)
    assert settings.progress_timeout == 150
    assert detail == f"KubeVirt {version} default"


def test_an_unreported_version_gets_the_newest_defaults_and_says_so() -> None:
    settings, detail = defaults("")
    assert settings.completion_timeout_per_gib == 150
    assert "has not reported its KubeVirt version" in detail


def sources(result) -> dict[str, str]:
    return {p.field: p.source for p in result.provenance}


def test_layers_override_field_by_field() -> None:
    result = effective(
        "v1.8.4",
        {"completion_timeout_per_gib": 300, "parallel_migrations_per_cluster": 10, "allow_auto_converge": False},
        "gold",
        {"completion_timeout_per_gib": 50, "bandwidth_per_migration": "1Gi"},
    )
    settings = result.settings
    assert settings.completion_timeout_per_gib == 50
    assert settings.bandwidth_per_migration == "1Gi"
    assert settings.parallel_migrations_per_cluster == 10
    assert settings.progress_timeout == 150
    assert sources(result) == {
        "parallel_migrations_per_cluster": "CLUSTER_CONFIG",
        "parallel_outbound_migrations_per_node": "VERSION_DEFAULT",
        "bandwidth_per_migration": "POLICY",
        "completion_timeout_per_gib": "POLICY",
        "progress_timeout": "VERSION_DEFAULT",
        "allow_auto_converge": "CLUSTER_CONFIG",
        "allow_post_copy": "VERSION_DEFAULT",
        "allow_workload_disruption": "VERSION_DEFAULT",
        "network": "VERSION_DEFAULT",
    }
    assert {p.field: p.detail for p in result.provenance}["bandwidth_per_migration"] == "set by migration policy gold"


def test_a_policy_setting_false_overrides_a_cluster_true() -> None:
    result = effective("v1.8.4", {"allow_auto_converge": True}, "p", {"allow_auto_converge": False})
    assert result.settings.allow_auto_converge is False
    assert sources(result)["allow_auto_converge"] == "POLICY"


def test_workload_disruption_follows_post_copy_in_the_cluster_config() -> None:
    result = effective("v1.8.4", {"allow_post_copy": True})
    assert result.settings.allow_workload_disruption is True
    disruption = result.provenance[-2]
    assert (disruption.field, disruption.source) == ("allow_workload_disruption", "CLUSTER_CONFIG")
    assert disruption.detail.startswith("not set, so it follows allow_post_copy")


def test_workload_disruption_follows_the_policys_post_copy_over_the_cluster_value() -> None:
    result = effective("v1.8.4", {"allow_workload_disruption": False}, "p", {"allow_post_copy": True})
    assert (result.settings.allow_post_copy, result.settings.allow_workload_disruption) == (True, True)
    assert sources(result)["allow_workload_disruption"] == "POLICY"


def test_an_explicit_workload_disruption_in_the_policy_wins_over_post_copy() -> None:
    result = effective("v1.8.4", {}, "p", {"allow_post_copy": True, "allow_workload_disruption": False})
    assert (result.settings.allow_post_copy, result.settings.allow_workload_disruption) == (True, False)


@pytest.mark.parametrize(
    ("per_gib", "data_bytes", "seconds"),
    [
        (150, 2 * 1024**3, 450),  # semantics.md §2.4: guest 2Gi = 2.147 GB, rounded up to 3, times 150
        (800, 8 * 1024**3, 7200),  # the seed's "8Gib times out after 6400 s" forgets the decimal GB rounding
        (800, 6 * 1024**3, 5600),
        (150, 10**9, 150),
        (150, 10**9 + 1, 300),
        (0, 4 * 1024**3, 0),
    ],
)
def test_completion_timeout_rounds_up_to_decimal_gigabytes(per_gib: int, data_bytes: int, seconds: int) -> None:
    timeout = completion_timeout(per_gib, data_bytes)
    assert timeout.seconds == seconds
    assert f"= {seconds} s" in timeout.formula
