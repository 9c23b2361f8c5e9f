"""Structural-schema validation and pruning with the apiserver's wording.

The real apiserver validates custom resources with kube-openapi and prunes
fields the structural schema does not declare. A reconciler that writes a bad
field must see the same 422 (same ``field`` paths, same reasons) and a pruned
field must vanish the same way, so this walks the CRD's openAPIV3Schema
itself instead of using a generic JSON-Schema library whose error paths and
pruning rules differ. CEL rules (``x-kubernetes-validations``) are not run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

_FILES = {
    "kubevirt": "kubevirt/{version}/crd-openapiv3/{name}.yaml",
    "cdi": "cdi/{version}/{name}.yaml",
    "harvester": "harvester-load-balancer/{name}.yaml",
    "harvesterhci": "harvester/{name}.yaml",
    "hco": "hco/{name}.yaml",
}

_META_FIELDS = {
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
    "selfLink",
}


@dataclass
class Outcome:
    causes: list[dict[str, str]] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)


def bundled(schema_dir: str, family: str) -> list[str]:
    """The schema versions on disk for ``kubevirt`` or ``cdi``."""
    root = Path(schema_dir) / family
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


# libyaml's parser when PyYAML was built with it: the CRD files are large (the VirtualMachine one alone takes
# ~0.3 s of CPU with the pure-Python parser) and the result is the same, the constructor being SafeLoader's.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def _document(schema_dir: str, ref: str, version: str) -> dict[str, Any]:
    """A bundled schema file, parsed once per process (callers must not mutate it)."""
    family, name = ref.split(":", 1)
    path = Path(schema_dir) / _FILES[family].format(version=version, name=name)
    doc: dict[str, Any] = yaml.load(path.read_text(), Loader=_LOADER)
    return doc


@cache
def load(schema_dir: str, ref: str, version: str) -> dict[str, Any]:
    """Return the openAPIV3Schema for ``family:name`` at a schema version."""
    doc = _document(schema_dir, ref, version)
    if "openAPIV3Schema" in doc:
        return dict(doc["openAPIV3Schema"])
    return dict(doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


@cache
def printer_columns(schema_dir: str, ref: str, version: str) -> list[dict[str, Any]]:
    """The CRD's ``additionalPrinterColumns`` when its bundled file carries them (CRD-form files only)."""
    doc = _document(schema_dir, ref, version)
    versions = (doc.get("spec") or {}).get("versions") or [{}]
    return list(versions[0].get("additionalPrinterColumns") or [])


def _render(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _type_ok(value: Any, typ: str) -> bool:
    if typ == "object":
        return isinstance(value, dict)
    if typ == "array":
        return isinstance(value, list)
    if typ == "string":
        return isinstance(value, str)
    if typ == "boolean":
        return isinstance(value, bool)
    if typ == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if typ == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True


class _Walker:
    def __init__(self, prune: bool, previous: dict[str, Any] | None = None) -> None:
        self.out = Outcome()
        self.prune = prune
        self.previous = previous

    def bad(self, path: str, reason: str, message: str) -> None:
        self.out.causes.append({"reason": reason, "message": message, "field": path})

    def walk(self, value: Any, schema: dict[str, Any], path: str) -> Any:
        if value is None:
            if not schema.get("nullable"):
                self.bad(
                    path,
                    "FieldValueTypeInvalid",
                    f'Invalid value: "null": {path} in body must be of type {schema.get("type", "object")}: "null"',
                )
            return value
        if schema.get("x-kubernetes-int-or-string"):
            if not isinstance(value, int | str) or isinstance(value, bool):
                self.bad(
                    path,
                    "FieldValueTypeInvalid",
                    f"Invalid value: {_render(value)}: {path} in body must be of type integer,string: {_render(value)}",
                )
            return value
        typ = schema.get("type")
        if typ and not _type_ok(value, typ):
            kind = {dict: "object", list: "array", str: "string", bool: "boolean"}.get(type(value), "number")
            self.bad(
                path,
                "FieldValueTypeInvalid",
                f'Invalid value: "{kind}": {path} in body must be of type {typ}: {_render(value)}',
            )
            return value
        if "enum" in schema and value not in schema["enum"]:
            supported = ", ".join(_render(v) for v in schema["enum"])
            self.bad(
                path,
                "FieldValueNotSupported",
                f"Unsupported value: {_render(value)}: supported values: {supported}",
            )
        if isinstance(value, str):
            self._string(value, schema, path)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self._number(value, schema, path)
        if isinstance(value, list):
            return self._array(value, schema, path)
        if isinstance(value, dict):
            return self._object(value, schema, path)
        return value

    def _string(self, value: str, schema: dict[str, Any], path: str) -> None:
        pattern = schema.get("pattern")
        if pattern and not re.search(pattern, value):
            self.bad(
                path,
                "FieldValueInvalid",
                f"Invalid value: {_render(value)}: {path} in body should match '{pattern}'",
            )
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            self.bad(path, "FieldValueTooLong", f"Too long: may not be more than {schema['maxLength']} bytes")
        if "minLength" in schema and len(value) < schema["minLength"]:
            self.bad(
                path,
                "FieldValueInvalid",
                f"Invalid value: {_render(value)}: {path} in body should be at least {schema['minLength']} chars long",
            )

    def _number(self, value: float, schema: dict[str, Any], path: str) -> None:
        if "minimum" in schema and value < schema["minimum"]:
            self.bad(
                path,
                "FieldValueInvalid",
                f"Invalid value: {_render(value)}: {path} in body should be greater than or equal to "
                f"{schema['minimum']}",
            )
        if "maximum" in schema and value > schema["maximum"]:
            self.bad(
                path,
                "FieldValueInvalid",
                f"Invalid value: {_render(value)}: {path} in body should be less than or equal to {schema['maximum']}",
            )

    def _array(self, value: list[Any], schema: dict[str, Any], path: str) -> list[Any]:
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            self.bad(
                path,
                "FieldValueTooMany",
                f"Too many: {len(value)}: must have at most {schema['maxItems']} items",
            )
        if "minItems" in schema and len(value) < schema["minItems"]:
            self.bad(
                path,
                "FieldValueInvalid",
                f"Invalid value: {len(value)}: {path} in body should have at least {schema['minItems']} items",
            )
        items = schema.get("items")
        if not isinstance(items, dict):
            return value
        return [self.walk(v, items, f"{path}[{i}]") for i, v in enumerate(value)]

    def _object(self, value: dict[str, Any], schema: dict[str, Any], path: str) -> dict[str, Any]:
        props: dict[str, Any] | None = schema.get("properties")
        extra = schema.get("additionalProperties")
        for name in schema.get("required", []):
            if name not in value:
                self.bad(f"{path}.{name}" if path else name, "FieldValueRequired", "Required value")
        out: dict[str, Any] = {}
        same = self.previous if not path else None
        for key, item in value.items():
            if same is not None and key in same and same[key] is item:
                # The stored object's own field, unchanged by this write: it passed this walk when it was
                # stored (validated, pruned), and walking it again would find nothing and change nothing.
                out[key] = item
                continue
            child = f"{path}.{key}" if path else key
            if props is not None and key in props:
                out[key] = self.walk(item, props[key], child)
            elif isinstance(extra, dict):
                out[key] = self.walk(item, extra, child)
            elif (
                extra is True or schema.get("x-kubernetes-preserve-unknown-fields") or (props is None and extra is None)
            ):
                out[key] = item
            elif self.prune:
                self.out.pruned.append(child)
            else:
                out[key] = item
        return out


def validate(
    obj: dict[str, Any], schema: dict[str, Any], previous: dict[str, Any] | None = None
) -> tuple[dict[str, Any], Outcome]:
    """Validate ``obj``; return the pruned copy and the causes/pruned paths found.

    ``previous`` is the stored object an update replaces: top-level fields ``obj`` shares with it (the same
    objects, not equal ones) were validated when it was stored and are kept without a second walk.
    """
    walker = _Walker(prune=True, previous=previous)
    body = {k: v for k, v in obj.items() if k != "metadata"}
    root = dict(schema)
    root_props = dict(root.get("properties", {}))
    root_props.pop("metadata", None)
    root["properties"] = root_props
    root["properties"].setdefault("apiVersion", {"type": "string"})
    root["properties"].setdefault("kind", {"type": "string"})
    pruned = walker.walk(body, root, "")
    meta = obj.get("metadata", {})
    kept_meta = {}
    for key, val in meta.items():
        if key in _META_FIELDS:
            kept_meta[key] = val
        else:
            walker.out.pruned.append(f"metadata.{key}")
    pruned["metadata"] = kept_meta
    return pruned, walker.out
