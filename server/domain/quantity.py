"""Kubernetes resource quantities, parsed the way the API server parses them.

Users type `memory: 4Gi` and `size: 20G` into Harrow; the cluster later reads
the same text as a `resource.Quantity`. Checking it here with the same grammar
(k8s.io/apimachinery `ParseQuantity`) turns a late, cryptic admission failure
into an immediate field violation, and catches the classic `4GB` and `512m`
mistakes. The value is a `Decimal` because quantities are exact ("0.1" CPU,
"1.5Gi"), never floats.

Grammar:
    quantity  ::= [+-] number suffix
    number    ::= digits | digits "." [digits] | "." digits
    suffix    ::= "" | Ki | Mi | Gi | Ti | Pi | Ei | m | k | M | G | T | P | E | ("e"|"E") [+-] digits
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Context, Decimal

_BINARY_SUFFIXES = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL_SUFFIXES = {"m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}

_NUMBER = re.compile(r"([+-]?)(\d+\.?\d*|\.\d+)(.*)", re.DOTALL)
_EXPONENT = re.compile(r"[eE]([+-]?\d+)")
# Wide enough for any useful value; keeps "1e999999999" from costing anything.
_MAX_EXPONENT = 1000

# Anything at or beyond int64 cannot reach the cluster (Quantity's fast path is
# int64) and no real CPU count or byte size comes near it.
_LIMIT = Decimal(2**63)

_SUFFIX_HINT = "use Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E or no suffix"


def parse_quantity(text: str, *, allow_negative: bool = False) -> Decimal:
    """The exact value of `text`; `ValueError` says in a few words what is wrong."""
    if text == "":
        raise ValueError("must not be empty")
    if any(c.isspace() for c in text):
        raise ValueError("must not contain spaces")
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise ValueError(f'must start with a number, e.g. "4Gi" (got "{text}")')
    sign, digits, suffix = match.groups()
    if suffix[:1].isdigit() or suffix[:1] == ".":
        raise ValueError(f'"{text}" is not a number')
    power_of_10, power_of_1024 = _scale(suffix)
    # Room for every digit given, the exponent and 1024**6, so nothing is rounded or overflows.
    room = len(digits) + _MAX_EXPONENT + 40
    exact = Context(prec=room, Emax=room, Emin=-room)
    value = exact.multiply(Decimal(sign + digits).scaleb(power_of_10, exact), 1024**power_of_1024)
    if value < 0 and not allow_negative:
        raise ValueError("must not be negative")
    if abs(value) >= _LIMIT:
        raise ValueError(f"is too large (at most {_LIMIT - 1})")
    return value


def quantity_bytes(text: str) -> int:
    """Whole bytes for a memory or disk size, rounded up as Kubernetes does."""
    value = parse_quantity(text)
    if text.endswith("m"):
        # Legal for CPU, but "512m" of memory is half a byte: surely meant Mi.
        raise ValueError('suffix "m" means thousandths; use Mi for mebibytes or M for megabytes')
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def _scale(suffix: str) -> tuple[int, int]:
    """The suffix as (power of 10, power of 1024)."""
    if suffix in _BINARY_SUFFIXES:
        return 0, _BINARY_SUFFIXES[suffix]
    if suffix in _DECIMAL_SUFFIXES:
        return _DECIMAL_SUFFIXES[suffix], 0
    exponent = _EXPONENT.fullmatch(suffix)
    if exponent is None:
        raise ValueError(f'unknown suffix "{suffix}"; {_SUFFIX_HINT}')
    power = int(exponent.group(1))
    if abs(power) > _MAX_EXPONENT:
        raise ValueError(f"exponent must be between -{_MAX_EXPONENT} and {_MAX_EXPONENT} (got {power})")
    return power, 0
