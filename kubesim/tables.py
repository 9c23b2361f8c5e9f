"""Server-side printing: the ``meta.k8s.io`` Table that ``kubectl get`` asks for.

kubectl renders whatever columns the server sends, so without Tables every
kind would print as NAME/AGE and ``kubectl get vm`` would not show the
STATUS/READY users know from a real cluster. Custom resources get the
columns of their CRD: read from the bundled CRD where its file carries
``additionalPrinterColumns`` (CDI, Harvester), and for KubeVirt, whose
bundled files hold only the schema, from virt-operator's ``crds.go``. A CRD
without columns gets Age, as apiextensions-apiserver adds. Core kinds get a
short version of the built-in printers' columns. Cells follow the
apiextensions table convertor: the first JSONPath match, strings printed as
text (objects as JSON), dates as the relative age kubectl shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .resources import Resource
from .schema import printer_columns

Obj = dict[str, Any]
Cell = Callable[[Obj], Any]

NAME_DESCRIPTION = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources may "
    "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
    "for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def _status(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "type": "string", "jsonPath": path}


def _condition(kind: str) -> str:
    return f".status.conditions[?(@.type=='{kind}')].status"


# kubevirt pkg/virt-operator/resource/generate/components/crds.go
KUBEVIRT: dict[str, list[dict[str, Any]]] = {
    "VirtualMachine": [AGE, _status("Status", ".status.printableStatus"), _status("Ready", _condition("Ready"))],
    "VirtualMachineInstance": [
        AGE,
        _status("Phase", ".status.phase"),
        _status("IP", ".status.interfaces[0].ipAddress"),
        _status("NodeName", ".status.nodeName"),
        _status("Ready", _condition("Ready")),
        {**_status("Live-Migratable", _condition("LiveMigratable")), "priority": 1},
        {**_status("Paused", _condition("Paused")), "priority": 1},
    ],
    "VirtualMachineInstanceMigration": [_status("Phase", ".status.phase"), _status("VMI", ".spec.vmiName")],
    "KubeVirt": [AGE, _status("Phase", ".status.phase")],
    "VirtualMachineSnapshot": [
        _status("SourceKind", ".spec.source.kind"),
        _status("SourceName", ".spec.source.name"),
        _status("Phase", ".status.phase"),
        {"name": "ReadyToUse", "type": "boolean", "jsonPath": ".status.readyToUse"},
        {"name": "CreationTime", "type": "date", "jsonPath": ".status.creationTime"},
        _status("Error", ".status.error.message"),
    ],
}


def _access_modes(obj: Obj) -> str:
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
    return ",".join(short.get(m, m) for m in (obj.get("status") or {}).get("accessModes") or [])


def _node_status(obj: Obj) -> str:
    conditions: list[Obj] = obj.get("status", {}).get("conditions") or []
    ready: Obj = next((c for c in conditions if c.get("type") == "Ready"), {})
    out = "Ready" if ready.get("status") == "True" else "NotReady"
    return out + (",SchedulingDisabled" if obj.get("spec", {}).get("unschedulable") else "")


def _default_class(obj: Obj) -> str:
    default = (obj["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class")
    return str(obj["metadata"]["name"]) + (" (default)" if default == "true" else "")


def _created(obj: Obj) -> str | None:
    return _age(obj["metadata"].get("creationTimestamp"))


AGE_CELL: tuple[str, str, Cell] = ("Age", "string", _created)
BUILT_IN_GROUPS = ("", "storage.k8s.io", "coordination.k8s.io", "rbac.authorization.k8s.io")

# Shortened from kubernetes pkg/printers/internalversion/printers.go; (header, type, cell), Age where kubectl has it.
CORE: dict[str, list[tuple[str, str, Cell]]] = {
    "Namespace": [("Status", "string", lambda o: (o.get("status") or {}).get("phase")), AGE_CELL],
    "Node": [
        ("Status", "string", _node_status),
        ("Roles", "string", lambda o: "<none>"),
        AGE_CELL,
        ("Version", "string", lambda o: ((o.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")),
    ],
    "Pod": [("Status", "string", lambda o: (o.get("status") or {}).get("phase", "Pending")), AGE_CELL],
    "PersistentVolumeClaim": [
        ("Status", "string", lambda o: (o.get("status") or {}).get("phase", "Pending")),
        ("Volume", "string", lambda o: (o.get("spec") or {}).get("volumeName", "")),
        ("Capacity", "string", lambda o: ((o.get("status") or {}).get("capacity") or {}).get("storage", "")),
        ("Access Modes", "string", _access_modes),
        ("StorageClass", "string", lambda o: (o.get("spec") or {}).get("storageClassName", "")),
        AGE_CELL,
    ],
    "Secret": [
        ("Type", "string", lambda o: o.get("type", "Opaque")),
        ("Data", "integer", lambda o: len(o.get("data") or {})),
        AGE_CELL,
    ],
    "StorageClass": [
        ("Provisioner", "string", lambda o: o.get("provisioner", "")),
        ("ReclaimPolicy", "string", lambda o: o.get("reclaimPolicy", "Delete")),
        ("VolumeBindingMode", "string", lambda o: o.get("volumeBindingMode", "Immediate")),
        ("AllowVolumeExpansion", "string", lambda o: str(bool(o.get("allowVolumeExpansion"))).lower()),
        AGE_CELL,
    ],
    "Lease": [("Holder", "string", lambda o: (o.get("spec") or {}).get("holderIdentity", "")), AGE_CELL],
}

_STEP = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_]+)==['\"]([^'\"]*)['\"]\)\]")


def json_path(obj: Any, path: str) -> Any:
    """The first match of the simple JSONPath subset CRD printer columns use, or None."""
    current: Any = obj
    for match in _STEP.finditer(path):
        key, index, field, want = match.groups()
        if key is not None:
            current = current.get(key) if isinstance(current, dict) else None
        elif index is not None:
            current = current[int(index)] if isinstance(current, list) and int(index) < len(current) else None
        else:
            items = current if isinstance(current, list) else []
            current = next((i for i in items if isinstance(i, dict) and str(i.get(field)) == want), None)
        if current is None:
            return None
    return current


def human_duration(seconds: float) -> str:
    """apimachinery ``duration.HumanDuration``, the AGE format."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    years = days // 365
    return f"{years}y{days % 365}d" if years < 8 and days % 365 else f"{years}y"


def _age(stamp: Any) -> str | None:
    if not isinstance(stamp, str):
        return None
    try:
        then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return human_duration((datetime.now(UTC) - then).total_seconds())


def _cell(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "date":
        return _age(value)
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return value


def _crd_cell(column: dict[str, Any]) -> Cell:
    return lambda obj: _cell(column["type"], json_path(obj, column["jsonPath"]))


@dataclass(frozen=True)
class Column:
    definition: dict[str, Any]
    cell: Cell


class Printer:
    """Builds Tables for one cluster (its schema versions decide the CRD columns)."""

    def __init__(self, schema_dir: str, versions: dict[str, str]) -> None:
        self.schema_dir = schema_dir
        self.versions = versions

    def columns(self, res: Resource) -> list[Column]:
        name = Column(
            {"name": "Name", "type": "string", "format": "name", "description": NAME_DESCRIPTION, "priority": 0},
            lambda o: o["metadata"]["name"] if res.kind != "StorageClass" else _default_class(o),
        )
        if res.group in BUILT_IN_GROUPS:
            return [name] + [
                Column({"name": h, "type": t, "format": "", "description": "", "priority": 0}, f)
                for h, t, f in CORE.get(res.kind, [AGE_CELL])
            ]
        declared = KUBEVIRT.get(res.kind)
        if declared is None and res.schema:
            family = res.schema.split(":", 1)[0]
            declared = printer_columns(self.schema_dir, res.schema, self.versions.get(family, ""))
        out = [name]
        for col in declared or [AGE]:
            definition = {
                "name": col["name"],
                "type": col["type"],
                "format": col.get("format", ""),
                "description": col.get("description", ""),
                "priority": col.get("priority", 0),
            }
            out.append(Column(definition, _crd_cell(col)))
        return out

    def table(
        self, res: Resource, items: list[Obj], meta: Obj, version: str, include: str = "Metadata"
    ) -> dict[str, Any]:
        columns = self.columns(res)
        rows = []
        for obj in items:
            row: Obj = {"cells": [c.cell(obj) for c in columns]}
            if include == "Object":
                row["object"] = obj
            elif include != "None":
                row["object"] = {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": f"meta.k8s.io/{version}",
                    "metadata": obj["metadata"],
                }
            rows.append(row)
        return {
            "kind": "Table",
            "apiVersion": f"meta.k8s.io/{version}",
            "metadata": meta,
            "columnDefinitions": [c.definition for c in columns],
            "rows": rows,
        }


def wants_table(accept: str) -> str | None:
    """The meta.k8s.io version of Table the first acceptable media type asks for, if any."""
    for media in accept.split(","):
        params = dict(p.strip().split("=", 1) for p in media.split(";")[1:] if "=" in p)
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return params["v"]
        if media.split(";")[0].strip() in ("application/json", "*/*", "application/yaml"):
            return None
    return None
