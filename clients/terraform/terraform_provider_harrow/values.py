"""Checks of configured values that Terraform cannot express in a schema: durations and enum names."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from tf.types import Unknown

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def seconds(duration: str) -> float:
    """A Terraform-style duration ("90s", "20m", "1h30m") in seconds."""
    found = _DURATION.match(duration.strip())
    if not duration.strip() or found is None:
        raise ValueError(f'"{duration}" is not a duration like "90s", "20m" or "1h30m"')
    hours, minutes, secs = (int(part or 0) for part in found.groups())
    return float(hours * 3600 + minutes * 60 + secs)


def enum_problems(value: Any, allowed: Iterable[str]) -> str | None:
    """Why a configured enum value is refused, or None; unknown values are checked at apply time."""
    if value is None or value is Unknown:
        return None
    choices = sorted(allowed)
    if value not in choices:
        return f'"{value}" is not one of {", ".join(choices)}'
    return None
