from decimal import Decimal

import pytest

from server.domain.quantity import parse_quantity, quantity_bytes

SUFFIX_HINT = "use Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E or no suffix"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", Decimal(0)),
        ("128", Decimal(128)),
        ("4Gi", Decimal(4 * 1024**3)),
        ("1.5Gi", Decimal(3 * 512 * 1024**2)),
        ("1Ki", Decimal(1024)),
        ("2Ei", Decimal(2 * 1024**6)),
        ("20G", Decimal(20 * 10**9)),
        ("1k", Decimal(1000)),
        ("500m", Decimal("0.5")),
        ("1e3", Decimal(1000)),
        ("1E3", Decimal(1000)),
        ("1e+3", Decimal(1000)),
        ("25e-2", Decimal("0.25")),
        ("1E", Decimal(10**18)),
        (".5", Decimal("0.5")),
        ("5.", Decimal(5)),
        ("+2Mi", Decimal(2 * 1024**2)),
        ("9223372036854775807", Decimal(2**63 - 1)),
    ],
)
def test_parses_kubernetes_quantities_exactly(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "must not be empty"),
        ("4 Gi", "must not contain spaces"),
        (" 4Gi", "must not contain spaces"),
        ("4Gi\n", "must not contain spaces"),
        ("4GB", f'unknown suffix "GB"; {SUFFIX_HINT}'),
        ("4gi", f'unknown suffix "gi"; {SUFFIX_HINT}'),
        ("1e", f'unknown suffix "e"; {SUFFIX_HINT}'),
        ("1e1.5", f'unknown suffix "e1.5"; {SUFFIX_HINT}'),
        ("1.5.3", '"1.5.3" is not a number'),
        ("1..5", '"1..5" is not a number'),
        ("Gi", 'must start with a number, e.g. "4Gi" (got "Gi")'),
        ("-", 'must start with a number, e.g. "4Gi" (got "-")'),
        ("-1Gi", "must not be negative"),
        ("-0.5", "must not be negative"),
        ("8Ei", "is too large (at most 9223372036854775807)"),
        ("9223372036854775808", "is too large (at most 9223372036854775807)"),
        ("1" + "0" * 3000 + "e1000", "is too large (at most 9223372036854775807)"),
        ("1e1001", "exponent must be between -1000 and 1000 (got 1001)"),
        ("1e-999999999", "exponent must be between -1000 and 1000 (got -999999999)"),
    ],
)
def test_refuses_with_a_short_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_quantity(text)
    assert str(caught.value) == reason


def test_negative_values_when_asked_for() -> None:
    assert parse_quantity("-1Gi", allow_negative=True) == Decimal(-(1024**3))
    assert parse_quantity("-0.5", allow_negative=True) == Decimal("-0.5")


def test_negative_values_still_have_a_size_limit() -> None:
    with pytest.raises(ValueError, match="too large"):
        parse_quantity("-8Ei", allow_negative=True)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("4Gi", 4 * 1024**3),
        ("1.5Ki", 1536),
        ("0.1", 1),
        ("1.0000000000000000000000000000000000000000000000000000000000000000000001", 2),
        ("1e-1000", 1),
        ("0", 0),
        ("20G", 20_000_000_000),
    ],
)
def test_bytes_round_up_to_whole_bytes(text: str, size: int) -> None:
    assert quantity_bytes(text) == size


def test_bytes_refuse_milli_which_is_always_a_mistake_for_sizes() -> None:
    with pytest.raises(ValueError) as caught:
        quantity_bytes("512m")
    assert str(caught.value) == 'suffix "m" means thousandths; use Mi for mebibytes or M for megabytes'


def test_bytes_pass_on_parse_errors() -> None:
    with pytest.raises(ValueError) as caught:
        quantity_bytes("-1Gi")
    assert str(caught.value) == "must not be negative"
