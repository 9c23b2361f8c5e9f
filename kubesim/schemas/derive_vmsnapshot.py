"""Derive the VirtualMachineSnapshot CRD schema from KubeVirt's swagger.json.

KubeVirt publishes no CRD file for snapshot.kubevirt.io; virt-operator generates the CRD at install time.
Its published ``api/openapi-spec/swagger.json`` has the same Go types as definitions, so this turns
``v1beta1.VirtualMachineSnapshot`` into the structural ``openAPIV3Schema`` form kubesim's other KubeVirt
schema files have: every ``$ref`` inlined, ``default`` dropped (the CRD carries none), ``type: [T, "null"]``
written as ``type: T`` + ``nullable: true``, and ``metadata`` reduced to ``{type: object}`` as in every CRD.

Usage (writes one file per version; the output is deterministic, a test compares it with this function):

    python kubesim/schemas/derive_vmsnapshot.py /work/shared/schemas/kubevirt
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = "v1beta1.VirtualMachineSnapshot"
VERSIONS = ("v1.8.4", "main")
HEADER = (
    "# Derived from kubevirt/kubevirt api/openapi-spec/swagger.json ({version}), definition\n"
    "# v1beta1.VirtualMachineSnapshot, by kubesim/schemas/derive_vmsnapshot.py. Do not edit by hand.\n"
)
_KEEP = (
    "description",
    "type",
    "format",
    "enum",
    "required",
    "nullable",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
)


def _inline(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        target = definitions[node["$ref"].rsplit("/", 1)[1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _inline(merged, definitions)
    out: dict[str, Any] = {}
    for key in _KEEP:
        if key in node:
            out[key] = node[key]
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        out["type"] = types[0]
        out["nullable"] = True
    if "properties" in node:
        out["properties"] = {name: _inline(child, definitions) for name, child in sorted(node["properties"].items())}
    if "items" in node:
        out["items"] = _inline(node["items"], definitions)
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = _inline(node["additionalProperties"], definitions)
    if "required" in out:
        out["required"] = sorted(out["required"])
    return out


def derive(swagger: dict[str, Any]) -> dict[str, Any]:
    """The ``openAPIV3Schema`` document for VirtualMachineSnapshot from a parsed swagger.json."""
    definitions = swagger["definitions"]
    schema = _inline(definitions[ROOT], definitions)
    schema["properties"]["metadata"] = {"type": "object"}
    return {"openAPIV3Schema": schema}


def render(swagger: dict[str, Any], version: str) -> str:
    return HEADER.format(version=version) + yaml.safe_dump(derive(swagger), sort_keys=False, width=120)


def main(shared: str) -> None:
    here = Path(__file__).parent / "kubevirt"
    for version in VERSIONS:
        swagger = json.loads((Path(shared) / version / "swagger.json").read_text())
        target = here / version / "crd-openapiv3" / "virtualmachinesnapshot.yaml"
        target.write_text(render(swagger, version))
        print(target)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/schemas/kubevirt")
