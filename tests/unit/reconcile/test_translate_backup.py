"""Snapshot, backup and image objects validate against the real schemas, and their status reads back.

Schemas: Harvester's CRDs (kubesim/schemas/harvester, copied unchanged from harvester/harvester) and KubeVirt's
VirtualMachineSnapshot (kubesim/schemas/kubevirt/*/crd-openapiv3, derived from KubeVirt's swagger).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from server.reconcile.translate_backup import (
    HARVESTER_BACKUP,
    KUBEVIRT_SNAPSHOT,
    backup_kind,
    observe_backup,
    observe_image,
    translate_backup,
    translate_image,
)

SCHEMAS = Path(__file__).resolve().parents[3] / "kubesim" / "schemas"
LABELS = {"app.kubernetes.io/managed-by": "harrow", "harrow.io/uid": "uid-1"}


_VALIDATORS: dict[int, Any] = {}


def _validate(obj: dict[str, Any], schema: dict[str, Any]) -> None:
    """jsonschema.validate without re-checking the (large, cached) schema on every call."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _VALIDATORS[id(schema)] = cls(schema)
    validator.validate(obj)


@functools.cache
def _harvester_schema(plural: str) -> dict[str, Any]:
    # Harvester's CRD files are large (thousands of lines of descriptions): parse each once, with libyaml.
    crd = yaml.load((SCHEMAS / "harvester" / f"crd-{plural}.yaml").read_text(), Loader=yaml.CSafeLoader)
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1beta1")
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


@functools.cache
def _snapshot_schema(version: str) -> dict[str, Any]:
    path = SCHEMAS / "kubevirt" / version / "crd-openapiv3" / "virtualmachinesnapshot.yaml"
    schema: dict[str, Any] = yaml.safe_load(path.read_text())["openAPIV3Schema"]
    return schema


@pytest.mark.parametrize(("backup_type", "word"), [("SNAPSHOT", "snapshot"), ("BACKUP", "backup")])
def test_on_harvester_a_snapshot_or_backup_is_a_valid_virtual_machine_backup(backup_type: str, word: str) -> None:
    kind = backup_kind(harvester=True)
    assert kind == HARVESTER_BACKUP
    obj = translate_backup(kind[3], "nightly", "prod", "uid-1", "web", backup_type)
    _validate(obj, _harvester_schema("virtualmachinebackups"))
    assert obj["apiVersion"] == "harvesterhci.io/v1beta1" and obj["kind"] == "VirtualMachineBackup"
    assert obj["metadata"] == {"name": "nightly", "namespace": "prod", "labels": LABELS}
    assert obj["spec"] == {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": "web"}, "type": word}


@pytest.mark.parametrize("version", ["v1.8.4", "main"])
def test_on_plain_kubevirt_a_snapshot_is_a_valid_virtual_machine_snapshot(version: str) -> None:
    kind = backup_kind(harvester=False)
    assert kind == KUBEVIRT_SNAPSHOT
    obj = translate_backup(kind[3], "before-upgrade", "prod", "uid-1", "db", "SNAPSHOT")
    _validate(obj, _snapshot_schema(version))
    assert obj["apiVersion"] == "snapshot.kubevirt.io/v1beta1"
    assert obj["spec"] == {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": "db"}}


def test_an_export_is_a_valid_virtual_machine_image_like_harvesters_export_action() -> None:
    schema = _harvester_schema("virtualmachineimages")
    lvm = translate_image("golden", "prod", "uid-1", "Golden image", "web-root", "lvm", "lvm")
    _validate(lvm, schema)
    assert lvm["spec"] == {
        "displayName": "Golden image",
        "sourceType": "export-from-volume",
        "pvcName": "web-root",
        "pvcNamespace": "prod",
        "backend": "cdi",
        "targetStorageClassName": "lvm",
    }
    assert lvm["metadata"]["annotations"] == {"harvesterhci.io/storageClassName": "lvm"}
    longhorn = translate_image("golden", "prod", "uid-1", "", "web-root", "harvester-longhorn", "longhorn-v1")
    _validate(longhorn, schema)
    # Longhorn v1 exports through a backing image; the display name defaults to the ID.
    assert longhorn["spec"]["backend"] == "backingimage" and longhorn["spec"]["displayName"] == "golden"


def _status(obj: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The object with a status, validated: what Harrow reads is what the schema allows the cluster to write."""
    _validate(obj, schema)
    return obj


def test_a_virtual_machine_backup_status_reads_as_creating_ready_or_failed() -> None:
    schema = _harvester_schema("virtualmachinebackups")
    base = translate_backup("VirtualMachineBackup", "b", "ns", "uid-1", "web", "BACKUP")
    creating = observe_backup(_status({**base, "status": {"progress": 40, "readyToUse": False}}, schema))
    assert creating.state == "CREATING" and creating.status == {"ready_to_use": False, "progress": 40}
    ready = observe_backup(
        _status(
            {**base, "status": {"readyToUse": True, "progress": 100, "creationTime": "2026-11-22T03:00:00Z"}}, schema
        )
    )
    assert ready.state == "READY"
    assert ready.status == {"ready_to_use": True, "progress": 100, "creation_time": "2026-11-22T03:00:00Z"}
    failed = observe_backup(
        _status({**base, "status": {"readyToUse": False, "error": {"message": "backup target unreachable"}}}, schema)
    )
    assert failed.state == "FAILED" and failed.status["error"] == "backup target unreachable"


def test_a_virtual_machine_snapshot_status_reads_by_phase() -> None:
    schema = _snapshot_schema("v1.8.4")
    base = translate_backup("VirtualMachineSnapshot", "s", "ns", "uid-1", "db", "SNAPSHOT")
    assert observe_backup(_status({**base, "status": {"phase": "InProgress"}}, schema)).state == "CREATING"
    ready = observe_backup(_status({**base, "status": {"phase": "Succeeded", "readyToUse": True}}, schema))
    assert ready.state == "READY" and ready.status["progress"] == 100
    failed = observe_backup(
        _status({**base, "status": {"phase": "Failed", "error": {"message": "no snapshot class"}}}, schema)
    )
    assert failed.state == "FAILED" and failed.status["error"] == "no snapshot class"


def test_a_virtual_machine_image_status_reads_by_its_conditions() -> None:
    schema = _harvester_schema("virtualmachineimages")
    base = translate_image("i", "ns", "uid-1", "", "web-root", "nfs", "nfs")
    exporting = observe_image(_status({**base, "status": {"progress": 30}}, schema))
    assert exporting.state == "EXPORTING" and exporting.status == {"progress": 30}
    imported = {"type": "Imported", "status": "True"}
    ready = observe_image(
        _status({**base, "status": {"progress": 100, "size": 2147483648, "conditions": [imported]}}, schema)
    )
    assert ready.state == "READY" and ready.status == {"progress": 100, "size_bytes": "2147483648"}
    exceeded = {"type": "RetryLimitExceeded", "status": "True", "message": "PVC web-root is in use"}
    failed = observe_image(_status({**base, "status": {"progress": 0, "conditions": [exceeded]}}, schema))
    assert failed.state == "FAILED" and failed.status["error"] == "PVC web-root is in use"


def test_a_harvester_backup_that_skipped_a_data_volume_is_failed_not_ready() -> None:
    """Harvester copies only persistentVolumeClaim volumes: a ready backup without the VM's DataVolume holds nothing."""
    schema = _harvester_schema("virtualmachinebackups")
    base = translate_backup("VirtualMachineBackup", "b", "ns", "uid-1", "web", "SNAPSHOT")
    copied = {
        "name": "b-volume-shared",
        "volumeName": "shared",
        "csiDriverName": "driver.longhorn.io",
        "persistentVolumeClaim": {"metadata": {"name": "shared"}, "spec": {}},
    }
    status = {"readyToUse": True, "progress": 100, "sourceUID": "u", "volumeBackups": [copied]}
    whole = observe_backup(_status({**base, "status": status}, schema), ["shared"])
    assert whole.state == "READY"
    partial = observe_backup(_status({**base, "status": status}, schema), ["shared", "web-root"])
    assert partial.state == "FAILED" and not partial.status["ready_to_use"]
    assert "web-root" in partial.status["error"] and "persistentVolumeClaim" in partial.status["error"]
    # Known as soon as Harvester lists what it will copy, before it says ready.
    started = observe_backup(_status({**base, "status": {"readyToUse": False, "sourceUID": "u"}}, schema), ["web-root"])
    assert started.state == "FAILED"


def test_an_export_of_an_existing_claim_leaves_the_backend_to_harvester() -> None:
    obj = translate_image("i", "ns", "uid-1", "", "shared", "", "")
    _validate(obj, _harvester_schema("virtualmachineimages"))
    assert "backend" not in obj["spec"] and "targetStorageClassName" not in obj["spec"]
    assert "annotations" not in obj["metadata"]
