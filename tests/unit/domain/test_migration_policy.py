"""KubeVirt's MigrationPolicy precedence, rule by rule.

Expected winners follow kubevirt `pkg/virt-controller/watch/migration/migrationpolicy.go`
(`matchPolicy`, `countMatchingLabels`, `migrationPolicyMatchScore.greaterThan`), identical in
v1.8.4 and main (reference/semantics.md §2.2).
"""

from __future__ import annotations

from server.domain.migration_policy import Policy, Score, Selectors, resolve


def policy(name: str, vmi: dict[str, str] | None = None, namespace: dict[str, str] | None = None) -> Policy:
    return Policy(name, Selectors(namespace=namespace or {}, virtual_machine_instance=vmi or {}))


VMI = {"tier": "gold", "app": "db", "team": "red"}
NS = {"env": "prod", "region": "eu"}


def test_no_policies_means_the_cluster_configuration() -> None:
    result = resolve([], VMI, NS)
    assert result.winner is None
    assert "no policy matches" in result.reason


def test_every_selector_entry_must_match_exactly() -> None:
    result = resolve([policy("wrong-value", {"tier": "silver"}), policy("missing", {"zone": "a"})], VMI, NS)
    assert result.winner is None
    explanations = {c.policy: c.explanation for c in result.candidates}
    assert explanations["wrong-value"] == 'VMI selector tier="silver" (has "gold")'
    assert explanations["missing"] == 'VMI selector zone="a" (is missing)'


def test_a_namespace_selector_miss_is_no_match_even_when_the_vmi_selector_matches() -> None:
    result = resolve([policy("ns", {"tier": "gold"}, {"env": "dev"})], VMI, NS)
    assert result.winner is None
    assert result.candidates[0].explanation == 'namespace selector env="dev" (has "prod")'


def test_an_empty_selector_matches_with_score_zero() -> None:
    result = resolve([policy("catch-all")], VMI, NS)
    assert result.winner == "catch-all"
    assert result.candidates[0].score == Score(total=0, vmi=0)


def test_more_matching_labels_win() -> None:
    result = resolve([policy("a-one", {"tier": "gold"}), policy("z-two", {"tier": "gold", "app": "db"})], VMI, NS)
    assert result.winner == "z-two"
    assert "matches the most labels: 2 VMI and 0 namespace" in result.reason


def test_the_total_counts_vmi_and_namespace_labels_together() -> None:
    # (1 VMI + 2 NS) = 3 beats (2 VMI + 0 NS) = 2: greaterThan compares totals first.
    result = resolve([policy("a-vmi", {"tier": "gold", "app": "db"}), policy("b-mixed", {"tier": "gold"}, NS)], VMI, NS)
    assert result.winner == "b-mixed"
    assert result.candidates[0].score == Score(total=3, vmi=1)


def test_on_equal_totals_vmi_labels_win_over_namespace_labels() -> None:
    # (2 VMI, 0 NS) vs (0 VMI, 2 NS), and (1, 1): same total 2; the most VMI labels wins whatever the name.
    policies = [
        policy("a-ns", namespace=NS),
        policy("b-half", {"tier": "gold"}, {"env": "prod"}),
        policy("z-vmi", {"tier": "gold", "app": "db"}),
    ]
    result = resolve(policies, VMI, NS)
    assert result.winner == "z-vmi"
    assert [c.policy for c in result.candidates] == ["z-vmi", "b-half", "a-ns"]


def test_a_tie_goes_to_the_smallest_name() -> None:
    result = resolve(
        [policy("beta", {"tier": "gold"}), policy("alpha", {"app": "db"}), policy("gamma", {"team": "red"})], VMI, NS
    )
    assert result.winner == "alpha"
    assert result.reason.startswith("3 policies tie with 1 VMI and 0 namespace matching label(s)")


def test_names_compare_byte_wise_as_go_strings_do() -> None:
    # "a-b" < "a.b" < "ab" in byte order ('-' 0x2d, '.' 0x2e, 'b' 0x62).
    result = resolve([policy("ab"), policy("a.b"), policy("a-b")], VMI, NS)
    assert result.winner == "a-b"


def test_a_vmi_without_labels_matches_every_policy_with_score_zero() -> None:
    # The quirk: both checks are guarded by vmiLabels != nil, the namespace one included.
    policies = [policy("zeta", {"tier": "gold"}), policy("eta", namespace={"env": "nowhere"}), policy("theta")]
    result = resolve(policies, {}, NS)
    assert result.winner == "eta"
    assert result.labels_quirk
    assert all(c.matches and c.score == Score(0, 0) for c in result.candidates)
    assert "KubeVirt quirk" in result.reason


def test_with_labels_the_namespace_selector_is_checked_even_against_no_namespace_labels() -> None:
    result = resolve([policy("ns", namespace={"env": "prod"}), policy("open")], {"x": "y"}, {})
    assert result.winner == "open"
    assert not result.labels_quirk
