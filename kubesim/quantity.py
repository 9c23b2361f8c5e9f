"""Kubernetes resource quantities ("500m", "2Gi", "1e3") as numbers.

The scheduler and the migration transfer model compare requests with
allocatable and sizes with bandwidths; parsing follows the apiserver's
suffixes so a value a user writes means the same here as on a cluster.
"""

from __future__ import annotations

import re
from decimal import Decimal

_SUFFIX = {
    "": 1,
    "m": Decimal("0.001"),
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_RE = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")


def parse(value: object) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    match = _RE.match(str(value).strip())
    if not match or match.group(2) not in _SUFFIX:
        raise ValueError(f"quantities must match the regular expression: {value!r}")
    return float(Decimal(match.group(1)) * Decimal(_SUFFIX[match.group(2)]))
