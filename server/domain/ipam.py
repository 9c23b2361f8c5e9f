"""IP pool arithmetic and rules, following Harvester's load-balancer IPAM
(shared/reference/semantics.md §1; harvester/load-balancer-harvester
`pkg/ipam/allocator.go`, `selector.go`, `pkg/webhook/ippool/validator.go`).

Where Harvester is lossy we keep its defaults but do better:
- a sticky owner whose old address was taken falls back to the next free one
  (Harvester errors out);
- candidates are produced lazily, so an IPv6 /64 is never enumerated.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from server.domain.errors import FieldViolation

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
WILDCARD = "*"


@dataclass(frozen=True)
class Range:
    """One range with Harvester's defaults applied: [start, end] inclusive, minus the gateway.

    Bounds are integers so IPv4 and IPv6 share one arithmetic; `address()` turns one back."""

    network: Network
    start: int
    end: int
    gateway: int | None

    @property
    def version(self) -> int:
        return self.network.version

    def address(self, value: int) -> Address:
        return ipaddress.IPv4Address(value) if self.version == 4 else ipaddress.IPv6Address(value)

    @property
    def size(self) -> int:
        count = self.end - self.start + 1
        return count - 1 if self.gateway is not None and self.start <= self.gateway <= self.end else count

    def holds(self, address: Address) -> bool:
        value = int(address)
        return address.version == self.version and self.start <= value <= self.end and value != self.gateway

    def overlaps(self, other: Range) -> bool:
        return self.version == other.version and self.start <= other.end and other.start <= self.end


def _broadcast(network: Network) -> Address:
    return network.broadcast_address


def _parse_inside(value: str, network: Network, field: str, out: list[FieldViolation]) -> int | None:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        out.append(FieldViolation(field, f'"{value}" is not an IP address'))
        return None
    if address not in network:
        out.append(FieldViolation(field, f"{address} is outside the subnet {network}"))
    elif address == network.network_address:
        out.append(FieldViolation(field, f"{address} is the subnet's network address"))
    elif address == _broadcast(network):
        out.append(FieldViolation(field, f"{address} is the subnet's broadcast (all-ones host) address"))
    else:
        return int(address)
    return None


def make_range(
    subnet: str, range_start: str, range_end: str, gateway: str, field: str, out: list[FieldViolation]
) -> Range | None:
    """Harvester's MakeRange: start = network+1, end = broadcast-1 (IPv4) or last (IPv6), gateway = network+1."""
    try:
        network = ipaddress.ip_network(subnet, strict=False)
    except ValueError:
        out.append(FieldViolation(f"{field}.subnet", f'"{subnet}" is not a CIDR subnet such as "10.0.0.0/24"'))
        return None
    if network.num_addresses == 1:
        single = int(network.network_address)
        return Range(network, single, single, None)
    errors_before = len(out)
    start = _parse_inside(range_start, network, f"{field}.range_start", out) if range_start else None
    end = _parse_inside(range_end, network, f"{field}.range_end", out) if range_end else None
    gw = _parse_inside(gateway, network, f"{field}.gateway", out) if gateway else None
    if len(out) > errors_before:
        return None
    first = int(network.network_address) + 1
    last = int(_broadcast(network)) - (1 if network.version == 4 else 0)
    start, end = start or first, end or last
    if start > end:
        start, end = end, start
    return Range(network, start, end, gw or first)


@dataclass(frozen=True)
class RangeSpec:
    subnet: str
    range_start: str = ""
    range_end: str = ""
    gateway: str = ""


def make_ranges(specs: Sequence[RangeSpec], field: str) -> tuple[list[Range], list[FieldViolation]]:
    out: list[FieldViolation] = []
    if not specs:
        out.append(FieldViolation(field, "at least one range is required"))
    ranges: list[tuple[int, Range]] = []
    for index, spec in enumerate(specs):
        made = make_range(spec.subnet, spec.range_start, spec.range_end, spec.gateway, f"{field}[{index}]", out)
        if made is not None:
            ranges.append((index, made))
    for position, (index, current) in enumerate(ranges):
        for other_index, other in ranges[:position]:
            if current.overlaps(other):
                out.append(FieldViolation(f"{field}[{index}]", f"overlaps {field}[{other_index}]"))
    return [made for _, made in ranges], out


def total(ranges: Sequence[Range]) -> int:
    return sum(each.size for each in ranges)


def holds(ranges: Sequence[Range], address: Address) -> bool:
    return any(each.holds(address) for each in ranges)


def _segments(ranges: Sequence[Range], last_allocated: Address | None) -> Iterator[tuple[Range, int, int]]:
    """Harvester's round robin as ascending stretches: from just after the last allocated address (if it is
    in the ranges) to the end of its range, then the following ranges, then round to where it started."""
    if not ranges:
        return
    first, resume_at = 0, ranges[0].start
    for index, each in enumerate(ranges):
        if last_allocated is not None and last_allocated.version == each.version:
            last = int(last_allocated)
            if each.start <= last < each.end:
                first, resume_at = index, last + 1
                break
            if last == each.end:
                first = (index + 1) % len(ranges)
                resume_at = ranges[first].start
                break
    yield ranges[first], resume_at, ranges[first].end
    for index in [*range(first + 1, len(ranges)), *range(first)]:
        yield ranges[index], ranges[index].start, ranges[index].end
    if resume_at > ranges[first].start:
        yield ranges[first], ranges[first].start, resume_at - 1


def candidate_batches(ranges: Sequence[Range], last_allocated: Address | None, size: int) -> Iterator[list[Address]]:
    """The round-robin walk in ascending batches of at most `size`, gateways skipped. Lazy: an IPv6 /64
    costs only the batches actually looked at."""
    for each, start, end in _segments(ranges, last_allocated):
        value = start
        while value <= end:
            stop = min(end, value + size - 1)
            batch = [each.address(v) for v in range(value, stop + 1) if v != each.gateway]
            if batch:
                yield batch
            value = stop + 1


def candidates(ranges: Sequence[Range], last_allocated: Address | None) -> Iterator[Address]:
    """The round-robin walk one address at a time."""
    for batch in candidate_batches(ranges, last_allocated, 64):
        yield from batch


# --- selectors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    project: str = WILDCARD
    namespace: str = WILDCARD
    guest_cluster: str = WILDCARD

    def fields(self) -> tuple[str, str, str]:
        return self.project, self.namespace, self.guest_cluster


@dataclass(frozen=True)
class Selector:
    priority: int = 0
    network: str = ""
    scopes: tuple[Scope, ...] = ()

    @property
    def is_global(self) -> bool:
        """One scope, everything a wildcard: Harvester's global pool, the fallback when nothing matches."""
        return len(self.scopes) == 1 and self.scopes[0].fields() == (WILDCARD, WILDCARD, WILDCARD)


@dataclass(frozen=True)
class Requirement:
    """Who asks for an address: the context a pool's selector is matched against."""

    network: str = ""
    project: str = WILDCARD
    namespace: str = WILDCARD
    guest_cluster: str = WILDCARD


def _field_matches(mine: str, theirs: str) -> bool:
    return mine == WILDCARD or theirs == WILDCARD or mine == theirs


def scope_matches(scope: Scope, requirement: Requirement) -> bool:
    wanted = (requirement.project, requirement.namespace, requirement.guest_cluster)
    return all(_field_matches(mine, theirs) for mine, theirs in zip(scope.fields(), wanted, strict=True))


def scopes_overlap(a: Scope, b: Scope) -> bool:
    return all(_field_matches(mine, theirs) for mine, theirs in zip(a.fields(), b.fields(), strict=True))


def select_pool(pools: Sequence[tuple[str, Selector]], requirement: Requirement) -> str | None:
    """Harvester's Select: among non-global pools on the same network with a matching scope, the highest
    priority wins; if none matches, the global pool (whatever its network); else None."""
    best: tuple[int, str] | None = None
    fallback: str | None = None
    for name, selector in pools:
        if selector.is_global:
            fallback = name
            continue
        if selector.network != requirement.network:
            continue
        if any(scope_matches(scope, requirement) for scope in selector.scopes):
            if best is None or selector.priority > best[0]:
                best = (selector.priority, name)
    return best[1] if best is not None else fallback


def selector_violations(selector: Selector, others: Sequence[tuple[str, Selector]], field: str) -> list[FieldViolation]:
    """Harvester's IPPool webhook rules, checked against the cluster's other pools."""
    out: list[FieldViolation] = []
    for index, scope in enumerate(selector.scopes):
        for other_index in range(index):
            if scopes_overlap(scope, selector.scopes[other_index]):
                out.append(FieldViolation(f"{field}.scopes[{index}]", f"overlaps {field}.scopes[{other_index}]"))
    for name, other in others:
        if selector.is_global and other.is_global:
            out.append(FieldViolation(f"{field}.scopes", f"{name} is already the global pool; there can be one"))
        if selector.is_global or other.is_global:
            continue
        if selector.priority and selector.priority == other.priority:
            out.append(FieldViolation(f"{field}.priority", f"{selector.priority} is already used by {name}"))
        if selector.priority == 0 and other.priority == 0:
            if any(scopes_overlap(mine, theirs) for mine in selector.scopes for theirs in other.scopes):
                out.append(
                    FieldViolation(f"{field}.scopes", f"overlaps the scopes of {name}, which also has priority 0")
                )
    return out
