"""Kubernetes label, annotation and name rules, checked before anything reaches a cluster.

Harrow copies labels and annotations onto KubeVirt objects and uses VM names as
Kubernetes object names and guest hostnames, so it must refuse exactly what the
API server would refuse (k8s.io/apimachinery `validation.IsQualifiedName`,
`IsValidLabelValue`, `ValidateAnnotations`), and say precisely which rule a
value broke: a user fixing `labels["app/Team"]` should not have to read a regex.

Violations name the map entry as `labels["key"]`, so keys that contain dots
or slashes stay unambiguous.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from server.domain.errors import FieldViolation

_NAME_MAX = 63
_PREFIX_MAX = 253
ANNOTATIONS_MAX_BYTES = 256 * 1024

_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL_CHAR = re.compile(r"[^a-z0-9-]")

_NAME_RULE = "letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
_SUBDOMAIN_RULE = (
    "a DNS subdomain: lowercase letters, digits, '-' and '.', "
    "each dot-separated part starting and ending with a letter or digit"
)


def label_violations(labels: Mapping[str, str], field: str) -> list[FieldViolation]:
    """Every bad key and value in `labels`, in key order as given."""
    violations: list[FieldViolation] = []
    for key, value in labels.items():
        path = entry_path(field, key)
        violations.extend(FieldViolation(path, d) for d in _key_problems(key))
        violations.extend(FieldViolation(path, d) for d in _value_problems(value))
    return violations


def annotation_violations(annotations: Mapping[str, str], field: str) -> list[FieldViolation]:
    """Bad keys, then the total size, which Kubernetes counts in bytes over keys and values."""
    violations = [
        FieldViolation(entry_path(field, key), description) for key in annotations for description in _key_problems(key)
    ]
    size = sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items())
    if size > ANNOTATIONS_MAX_BYTES:
        violations.append(
            FieldViolation(field, f"total size must be at most {ANNOTATIONS_MAX_BYTES} bytes (got {size})")
        )
    return violations


def dns1123_label_violation(value: str, field: str) -> FieldViolation | None:
    """Why `value` cannot be a VM name, or None.

    Stricter than DNS-1123 in one way: the first character must be a letter
    (RFC 1035), because the name becomes the guest's hostname.
    """
    description = _dns_label_problem(value)
    return None if description is None else FieldViolation(field, description)


def entry_path(field: str, key: str) -> str:
    """The path of one map entry, e.g. `labels["example.com/tier"]`."""
    return f"{field}[{json.dumps(key, ensure_ascii=False)}]"


def _key_problems(key: str) -> list[str]:
    if key == "":
        return ["key must not be empty"]
    prefix, slash, name = key.rpartition("/")
    problems: list[str] = []
    if slash:
        if "/" in prefix:
            return [f'key "{key}" must contain at most one "/"']
        if prefix == "":
            problems.append('key prefix before "/" must not be empty')
        elif len(prefix) > _PREFIX_MAX:
            problems.append(f"key prefix must be at most {_PREFIX_MAX} characters (got {len(prefix)})")
        elif not _SUBDOMAIN.fullmatch(prefix):
            problems.append(f'key prefix "{prefix}" must be {_SUBDOMAIN_RULE}')
    if name == "":
        problems.append('key name after "/" must not be empty')
    elif len(name) > _NAME_MAX:
        problems.append(f"key name must be at most {_NAME_MAX} characters (got {len(name)})")
    elif not _NAME.fullmatch(name):
        problems.append(f'key name "{name}" must consist of {_NAME_RULE}')
    return problems


def _value_problems(value: str) -> list[str]:
    if len(value) > _NAME_MAX:
        return [f"value must be at most {_NAME_MAX} characters (got {len(value)})"]
    if value and not _NAME.fullmatch(value):
        return [f'value "{value}" must be empty or consist of {_NAME_RULE}']
    return []


def _dns_label_problem(value: str) -> str | None:
    if value == "":
        return "must not be empty"
    if len(value) > _NAME_MAX:
        return f"must be at most {_NAME_MAX} characters (got {len(value)})"
    bad = _DNS_LABEL_CHAR.search(value)
    if bad is not None:
        return (
            f"must contain only lowercase letters, digits and '-' "
            f'(found "{bad.group()}" at position {bad.start() + 1})'
        )
    if not value[0].isalpha():
        return "must start with a lowercase letter"
    if value.endswith("-"):
        return "must end with a lowercase letter or digit"
    return None
