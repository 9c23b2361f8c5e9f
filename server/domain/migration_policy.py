"""Which MigrationPolicy KubeVirt applies to a VM, and why (issue 6: "explained matching").

Users ask which policy applies; KubeVirt only tells them after a migration ran
(`vmi.status.migrationState.migrationPolicyName`). This module answers before,
by doing exactly what virt-controller does, so the answer cannot disagree
with the cluster. Source: kubevirt `pkg/virt-controller/watch/migration/migrationpolicy.go`
(`matchPolicy`, `countMatchingLabels`, `migrationPolicyMatchScore`), identical in v1.8.4
and main (reference/semantics.md §2.2):

- A policy matches when every key/value of its VMI selector is among the VMI's
  labels and every key/value of its namespace selector among the namespace's labels;
  an empty selector matches anything and scores 0.
- Quirk: both checks are guarded by `vmiLabels != nil` (even the namespace one),
  so a VMI without labels matches every policy, with score (0, 0). The API server
  drops an empty label map, so "no labels" and "empty labels" are the same here.
- Score (vmi, namespace): a higher total wins; on an equal total more VMI labels win.
- Among the best-scoring policies the byte-wise smallest name wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Selectors:
    namespace: Mapping[str, str]
    virtual_machine_instance: Mapping[str, str]


@dataclass(frozen=True)
class Policy:
    """A policy as matching sees it: its ID (the cluster object's metadata.name) and selectors."""

    name: str
    selectors: Selectors


@dataclass(frozen=True, order=True)
class Score:
    """Ordered as KubeVirt's `greaterThan`: by total, then by matching VMI labels."""

    total: int
    vmi: int

    @property
    def namespace(self) -> int:
        return self.total - self.vmi


@dataclass(frozen=True)
class Candidate:
    policy: str
    matches: bool
    score: Score
    explanation: str


@dataclass(frozen=True)
class Resolution:
    """The winner (None when no policy matches), every policy's verdict best first, and why the winner won."""

    winner: str | None
    candidates: tuple[Candidate, ...]
    reason: str
    labels_quirk: bool


def _count(selector: Mapping[str, str], labels: Mapping[str, str]) -> tuple[int, str | None]:
    """Matching labels, or the first selector entry that misses (keys in sorted order, for a stable message)."""
    for key in sorted(selector):
        if labels.get(key) != selector[key]:
            have = f'has "{labels[key]}"' if key in labels else "is missing"
            return 0, f'{key}="{selector[key]}" ({have})'
    return len(selector), None


def score(policy: Policy, vmi_labels: Mapping[str, str], namespace_labels: Mapping[str, str]) -> Candidate:
    """`countMatchingLabels` with its reason in words."""
    if not vmi_labels:
        return Candidate(
            policy.name,
            True,
            Score(0, 0),
            "matches with score 0: the VMI has no labels, so KubeVirt skips both selectors",
        )
    vmi, vmi_miss = _count(policy.selectors.virtual_machine_instance, vmi_labels)
    if vmi_miss is not None:
        return Candidate(policy.name, False, Score(0, 0), f"VMI selector {vmi_miss}")
    namespace, namespace_miss = _count(policy.selectors.namespace, namespace_labels)
    if namespace_miss is not None:
        return Candidate(policy.name, False, Score(0, 0), f"namespace selector {namespace_miss}")
    return Candidate(
        policy.name,
        True,
        Score(vmi + namespace, vmi),
        f"matches {vmi} VMI label(s) and {namespace} namespace label(s)",
    )


def resolve(
    policies: Sequence[Policy], vmi_labels: Mapping[str, str], namespace_labels: Mapping[str, str]
) -> Resolution:
    """`matchPolicy`: the best score wins, ties go to the smallest name."""
    candidates = [score(policy, vmi_labels, namespace_labels) for policy in policies]
    # Best first: matching, higher score, then name byte-wise (Go string comparison).
    ranked = sorted(candidates, key=lambda c: (not c.matches, -c.score.total, -c.score.vmi, c.policy.encode()))
    quirk = not vmi_labels and bool(policies)
    matching = [c for c in ranked if c.matches]
    if not matching:
        reason = "no policy matches; the cluster's migration configuration applies"
        return Resolution(None, tuple(ranked), reason, quirk)
    best = matching[0]
    tied = [c.policy for c in matching if c.score == best.score]
    if quirk:
        reason = (
            f"the VMI has no labels, so every policy matches with score 0 (KubeVirt quirk); "
            f"{best.policy} has the smallest name"
        )
    elif len(tied) > 1:
        reason = (
            f"{len(tied)} policies tie with {best.score.vmi} VMI and {best.score.namespace} namespace matching "
            f"label(s) ({', '.join(tied)}); {best.policy} has the smallest name"
        )
    else:
        reason = (
            f"{best.policy} matches the most labels: {best.score.vmi} VMI and {best.score.namespace} namespace "
            "(more in total wins; on equal totals more VMI labels win)"
        )
    return Resolution(best.policy, tuple(ranked), reason, quirk)
