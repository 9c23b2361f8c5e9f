"""IPAM arithmetic and rules, checked against Harvester's documented behaviour (semantics.md §1)."""

from __future__ import annotations

import ipaddress
from itertools import islice

from server.domain.ipam import (
    RangeSpec,
    Requirement,
    Scope,
    Selector,
    candidates,
    make_ranges,
    select_pool,
    selector_violations,
    total,
)


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def test_defaults_exclude_network_gateway_and_broadcast() -> None:
    ranges, problems = make_ranges([RangeSpec("10.0.0.0/24")], "ranges")
    assert problems == []
    # .1 is the default gateway, .0 network, .255 broadcast: .2 to .254 are handed out.
    assert total(ranges) == 253
    assert list(islice(candidates(ranges, None), 2)) == [ip("10.0.0.2"), ip("10.0.0.3")]


def test_explicit_range_and_gateway() -> None:
    ranges, problems = make_ranges([RangeSpec("10.0.0.0/24", "10.0.0.20", "10.0.0.10", "10.0.0.15")], "ranges")
    assert problems == []
    assert total(ranges) == 10  # start/end swapped, gateway inside removed
    assert ip("10.0.0.15") not in list(candidates(ranges, None))


def test_slash_32_is_one_address() -> None:
    ranges, _ = make_ranges([RangeSpec("192.168.1.7/32")], "ranges")
    assert list(candidates(ranges, None)) == [ip("192.168.1.7")]


def test_bad_ranges_name_their_field() -> None:
    _, problems = make_ranges(
        [
            RangeSpec("10.0.0.0/33"),
            RangeSpec("10.1.0.0/24", range_start="10.2.0.5"),
            RangeSpec("10.3.0.0/24", gateway="10.3.0.255"),
            RangeSpec("10.4.0.0/24", range_end="10.4.0.0"),
        ],
        "spec.ranges",
    )
    fields = {problem.field: problem.description for problem in problems}
    assert "not a CIDR" in fields["spec.ranges[0].subnet"]
    assert "outside the subnet" in fields["spec.ranges[1].range_start"]
    assert "broadcast" in fields["spec.ranges[2].gateway"]
    assert "network address" in fields["spec.ranges[3].range_end"]
    _, problems = make_ranges([], "spec.ranges")
    assert problems[0].field == "spec.ranges"


def test_overlapping_ranges_in_one_pool_are_refused() -> None:
    _, problems = make_ranges([RangeSpec("10.0.0.0/24"), RangeSpec("10.0.0.128/25")], "r")
    assert [(p.field, p.description) for p in problems] == [("r[1]", "overlaps r[0]")]


def test_round_robin_resumes_after_the_last_allocation_and_wraps() -> None:
    ranges, _ = make_ranges([RangeSpec("10.0.0.0/29"), RangeSpec("10.0.1.0/30")], "r")
    # /29: .1 gateway, .2 to .6 usable; /30: .1 gateway, .2 usable.
    walk = [str(a) for a in candidates(ranges, ip("10.0.0.5"))]
    assert walk == ["10.0.0.6", "10.0.1.2", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"]
    assert str(next(candidates(ranges, ip("10.0.1.2")))) == "10.0.0.2"


def test_ipv6_slash_64_is_counted_not_enumerated() -> None:
    ranges, problems = make_ranges([RangeSpec("fd00::/64")], "r")
    assert problems == []
    assert total(ranges) == 2**64 - 2  # network excluded from the default start; gateway fd00::1 excluded
    assert next(candidates(ranges, None)) == ip("fd00::2")


def test_selection_prefers_priority_then_falls_back_to_the_global_pool() -> None:
    pools = [
        ("global", Selector(scopes=(Scope(),))),
        ("team-a", Selector(priority=10, network="default/vlan10", scopes=(Scope(namespace="a"),))),
        ("team-a-low", Selector(priority=5, network="default/vlan10", scopes=(Scope(project="p1"),))),
        ("empty-scope", Selector(priority=99, network="default/vlan10")),
    ]
    assert select_pool(pools, Requirement(network="default/vlan10", namespace="a")) == "team-a"
    assert select_pool(pools, Requirement(network="default/vlan10", namespace="b")) == "team-a-low"
    assert select_pool(pools, Requirement(network="other", namespace="a")) == "global"
    assert select_pool(pools[1:], Requirement(network="other")) is None


def test_webhook_rules_for_selectors() -> None:
    others = [
        ("global", Selector(scopes=(Scope(),))),
        ("p10", Selector(priority=10, scopes=(Scope(namespace="x"),))),
        ("zero", Selector(priority=0, scopes=(Scope(namespace="y"),))),
    ]
    descriptions = [v.description for v in selector_violations(Selector(scopes=(Scope(),)), others, "s")]
    assert any("global pool" in d for d in descriptions)
    descriptions = [
        v.description for v in selector_violations(Selector(priority=10, scopes=(Scope(namespace="z"),)), others, "s")
    ]
    assert descriptions == ["10 is already used by p10"]
    descriptions = [v.description for v in selector_violations(Selector(scopes=(Scope(project="p1"),)), others, "s")]
    assert descriptions == ["overlaps the scopes of zero, which also has priority 0"]
    own = Selector(priority=3, scopes=(Scope(namespace="a"), Scope(project="p", namespace="a")))
    assert [v.field for v in selector_violations(own, [], "s")] == ["s.scopes[1]"]
