"""Where a storage profile override goes on each kind of cluster, and that what Harrow writes fits CDI's schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubesim import schema
from server.reconcile import translate_storage as ts

SCHEMAS = str(Path(__file__).parents[3] / "kubesim" / "schemas")
ROW_SPEC = {
    "claim_property_sets": [{"access_modes": ["READ_WRITE_MANY", "READ_WRITE_ONCE"], "volume_mode": "BLOCK"}],
    "clone_strategy": "CSI_CLONE",
    "data_import_cron_source_format": "VOLUME_SNAPSHOT",
    "snapshot_class": "rbd-snaps",
    "filesystem_overhead": "0.1",
}


def _view(
    *,
    harvester: bool,
    annotations: dict[str, str] | None = None,
    profile_spec: dict[str, Any] | None = None,
    parameters: dict[str, str] | None = None,
    cdi_config: dict[str, Any] | None = None,
    provisioner: str = "rook-ceph.rbd.csi.ceph.com",
) -> ts.ClusterView:
    return ts.ClusterView(
        harvester=harvester,
        cdi_version="v1.65.0",
        storage_class={
            "metadata": {"name": "rbd", "annotations": annotations or {}},
            "provisioner": provisioner,
            "parameters": parameters or {},
        },
        profile={"metadata": {"name": "rbd"}, "spec": profile_spec or {}, "status": {}},
        cdi={"metadata": {"name": "cdi"}, "spec": {"config": {"filesystemOverhead": cdi_config or {}}}},
        classes=("rbd",),
    )


def _storage_profile(spec: dict[str, Any]) -> dict[str, Any]:
    obj = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "StorageProfile", "metadata": {"name": "rbd"}, "spec": spec}
    _, outcome = schema.validate(obj, schema.load(SCHEMAS, "cdi:crd-storageprofile", "v1.65.0"))
    assert outcome.causes == [] and outcome.pruned == [], outcome
    return obj


def test_on_harvester_the_override_is_class_annotations_and_only_the_source_format_is_profile_spec() -> None:
    view = _view(harvester=True, annotations={"keep": "me"}, profile_spec={"cloneStrategy": "copy"})
    annotations = ts.storage_class_annotations(ROW_SPEC, view.annotations)
    assert annotations == {
        "keep": "me",
        "cdi.harvesterhci.io/storageProfileVolumeModeAccessModes": '{"Block":["ReadWriteMany","ReadWriteOnce"]}',
        "cdi.harvesterhci.io/storageProfileCloneStrategy": "csi-clone",
        "cdi.harvesterhci.io/storageProfileVolumeSnapshotClass": "rbd-snaps",
        "cdi.harvesterhci.io/filesystemOverhead": "0.1",
    }
    # Harvester's own fields are left to Harvester (it copies the annotations in).
    spec = ts.profile_spec(ROW_SPEC, view, {"cloneStrategy": "copy"})
    assert spec == {"cloneStrategy": "copy", "dataImportCronSourceFormat": "snapshot"}
    _storage_profile(spec)
    # Clearing the override takes Harrow's annotations away and keeps the rest.
    assert ts.storage_class_annotations({}, annotations) == {"keep": "me"}


def test_on_plain_cdi_the_override_is_profile_spec_and_cdi_config() -> None:
    view = _view(harvester=False, cdi_config={"global": "0.07", "storageClass": {"other": "0.3"}})
    spec = ts.profile_spec(ROW_SPEC, view, {})
    assert spec == {
        "claimPropertySets": [{"accessModes": ["ReadWriteMany", "ReadWriteOnce"], "volumeMode": "Block"}],
        "cloneStrategy": "csi-clone",
        "dataImportCronSourceFormat": "snapshot",
        "snapshotClass": "rbd-snaps",
    }
    _storage_profile(spec)
    config = ts.cdi_overhead_config(ROW_SPEC, view, view.overhead_config)
    assert config == {"global": "0.07", "storageClass": {"other": "0.3", "rbd": "0.1"}}
    assert ts.cdi_overhead_config({}, view, config) == {"global": "0.07", "storageClass": {"other": "0.3"}}


@pytest.mark.parametrize("harvester", [True, False])
def test_a_new_row_adopts_what_the_cluster_has_so_nothing_differs(harvester: bool) -> None:
    empty = _view(harvester=harvester)
    if harvester:
        written = _view(
            harvester=True,
            annotations=ts.storage_class_annotations(ROW_SPEC, {}),
            profile_spec=ts.profile_spec(ROW_SPEC, empty, {}),
        )
    else:
        written = _view(
            harvester=False,
            profile_spec=ts.profile_spec(ROW_SPEC, empty, {}),
            cdi_config=ts.cdi_overhead_config(ROW_SPEC, empty, {}),
        )
    assert ts.adopt(written) == ROW_SPEC
    assert ts.differences(ROW_SPEC, written) == []
    assert ts.differences({}, written) != []  # clearing the override is a change to write
    assert ts.differences(ROW_SPEC, empty) != []


def test_a_longhorn_v1_class_on_harvester_is_written_like_plain_cdi() -> None:
    view = _view(harvester=True, parameters={"dataEngine": "v1"}, provisioner="driver.longhorn.io")
    assert not view.harvester_owned
    assert ts.profile_spec(ROW_SPEC, view, {})["cloneStrategy"] == "csi-clone"


def test_status_shows_effective_values_and_the_cdi_version_default() -> None:
    seen = ts.observe({}, _view(harvester=False))
    assert seen.state == "READY"
    assert seen.status["claim_property_sets_source"] == "CDI_DEFAULTS"
    assert seen.status["read_write_many"] is True
    assert seen.status["filesystem_overhead"]["effective"] == "0.06"
    assert seen.status["scratch_space_storage_class"] == "rbd"
