"""CDI's StorageProfile rules, filesystem overhead and sizing, and the judging of VM volumes (pure)."""

from __future__ import annotations

import math

import pytest

from server.domain import storage_profiles as sp
from server.domain import storage_sizing as sizing
from server.domain import storage_volumes as volumes
from server.domain.errors import FailedPrecondition

RWO, RWX = "ReadWriteOnce", "ReadWriteMany"


@pytest.mark.parametrize(
    ("provisioner", "parameters", "key", "sets"),
    [
        ("driver.longhorn.io", {}, "driver.longhorn.io", [(RWO, "Block")]),
        (
            "driver.longhorn.io",
            {"migratable": "true"},
            "driver.longhorn.io/migratable",
            [(RWX, "Block"), (RWO, "Block")],
        ),
        (
            "driver.longhorn.io",
            {"nfsOptions": "vers=4"},
            "driver.longhorn.io/nfs",
            [(RWX, "Filesystem"), (RWO, "Filesystem")],
        ),
        ("driver.longhorn.io", {"fsType": "ext4"}, "driver.longhorn.io/fs", [(RWO, "Filesystem")]),
        ("nfs.csi.k8s.io", {}, "nfs.csi.k8s.io", [(RWX, "Filesystem")]),
        (
            "rook-ceph.rbd.csi.ceph.com",
            {},
            "rook-ceph.rbd.csi.ceph.com",
            [(RWX, "Block"), (RWO, "Block"), (RWO, "Filesystem")],
        ),
        ("lvm.driver.harvesterhci.io", {}, "lvm.driver.harvesterhci.io", []),
    ],
)
def test_cdi_defaults_per_provisioner_key(
    provisioner: str, parameters: dict[str, str], key: str, sets: list[tuple[str, str]]
) -> None:
    assert sp.provisioner_key(provisioner, parameters) == key
    assert [(s["accessModes"][0], s["volumeMode"]) for s in sp.cdi_defaults(key)] == sets


def test_effective_values_prefer_the_spec_then_cdi_then_nothing() -> None:
    override = {"claimPropertySets": [{"accessModes": [RWX], "volumeMode": "Filesystem"}], "cloneStrategy": "copy"}
    chosen = sp.effective(override, "rook-ceph.rbd.csi.ceph.com", {}, {}, {})
    assert chosen.source == "SPEC" and chosen.clone_strategy == "copy" and chosen.source_format == "snapshot"
    defaults = sp.effective({}, "rook-ceph.rbd.csi.ceph.com", {}, {}, {})
    assert defaults.source == "CDI_DEFAULTS" and defaults.clone_strategy == "csi-clone"
    unknown = sp.effective({}, "csi.example.com", {}, {"cdi.kubevirt.io/clone-strategy": "snapshot"}, {})
    # No snapshot class: CDI falls back from snapshot to copy.
    assert unknown.source == "NONE" and unknown.claim_property_sets == [] and unknown.clone_strategy == "copy"


def test_harvester_annotations_round_trip_and_skip_longhorn_v1() -> None:
    spec = {
        "claimPropertySets": [{"accessModes": [RWX, RWO], "volumeMode": "Block"}],
        "cloneStrategy": "snapshot",
        "snapshotClass": "snaps",
        "filesystemOverhead": "0.2",
    }
    annotations = sp.annotations_for(spec)
    assert annotations[sp.ANN_MODES] == '{"Block":["ReadWriteMany","ReadWriteOnce"]}'
    assert sp.spec_from_annotations(annotations) == {k: v for k, v in spec.items() if k != "filesystemOverhead"}
    assert sp.spec_from_annotations({}) == {}  # an absent annotation clears the field
    assert sp.harvester_owns("driver.longhorn.io", {})
    assert not sp.harvester_owns("driver.longhorn.io", {"dataEngine": "v1"})
    assert sp.harvester_owns("lvm.driver.harvesterhci.io", {})


def test_bad_overrides_name_their_fields() -> None:
    spec = {
        "claimPropertySets": [
            {"accessModes": [], "volumeMode": "Block"},
            {"accessModes": [RWO], "volumeMode": "Block"},
            {"accessModes": [RWO], "volumeMode": ""},
        ],
        "filesystemOverhead": "0.0555",
    }
    fields = {v.field for v in sp.spec_violations(spec, "storage_profile.spec", harvester=True)}
    assert fields == {
        "storage_profile.spec.claim_property_sets[0].access_modes",
        "storage_profile.spec.claim_property_sets[1].volume_mode",  # a second Block set: not one annotation
        "storage_profile.spec.claim_property_sets[2].volume_mode",
        "storage_profile.spec.filesystem_overhead",
    }
    plain = {v.field for v in sp.spec_violations(spec, "s", harvester=False)}
    assert "s.claim_property_sets[1].volume_mode" not in plain
    assert sp.spec_violations({"filesystemOverhead": "1"}, "s", harvester=False) == []


@pytest.mark.parametrize(
    ("version", "default"),
    [("v1.63.2", "0.055"), ("v1.64.0", "0.06"), ("v1.65.0", "0.06"), ("", "0.055"), ("main", "0.06")],
)
def test_the_default_overhead_follows_the_cdi_version(version: str, default: str) -> None:
    assert sizing.default_overhead(version) == default


def test_overhead_resolution_order() -> None:
    config = {"global": "0.1", "storageClass": {"nfs": "0"}}
    assert sizing.resolve_overhead("nfs", "v1.65.0", config).effective == "0"
    assert sizing.resolve_overhead("lvm", "v1.65.0", config).source == "global"
    assert sizing.resolve_overhead("lvm", "v1.63.0", {}).effective == "0.055"
    harvester = sizing.resolve_overhead("lvm", "v1.65.0", {}, harvester_annotation="0.2")
    assert (harvester.effective, harvester.source, harvester.global_value) == ("0.2", "storage class", "0.06")


def test_pvc_size_is_cdis_get_required_space() -> None:
    gib = 2**30
    assert sizing.pvc_size(gib, "Filesystem", "0.055") == math.ceil(gib / 0.945)
    assert sizing.pvc_size(gib, "Block", "0.055") == gib
    # Aligned up to 1 MiB first.
    assert sizing.required_space(1, "0") == 2**20
    assert sizing.required_space(10 * gib, "0.06") == 11_422_785_362  # 10 GiB / 0.94, rounded up


def test_scratch_space_class_rule_of_seed_004() -> None:
    classes = ["fast", "harvester-longhorn", "nfs"]
    assert sizing.scratch_space_class("fast", classes, "harvester-longhorn", "nfs") == "fast"
    assert sizing.scratch_space_class("gone", classes, "harvester-longhorn", "nfs") == "harvester-longhorn"
    assert sizing.scratch_space_class("", classes, "", "nfs") == "nfs"


def test_small_image_warning_of_seed_003() -> None:
    assert "0.2" in sizing.small_image_warning(500 * 2**20, "0.055", "lvm")
    assert "on LVM" in sizing.small_image_warning(500 * 2**20, "0.055", "lvm")
    assert sizing.small_image_warning(2 * 2**30, "0.055", "lvm") == ""
    assert sizing.small_image_warning(500 * 2**20, "0.2", "lvm") == ""


def _facts(storage_class: str, provisioner: str, sets: volumes.Sets, **parameters: str) -> volumes.ProfileFacts:
    return volumes.ProfileFacts(storage_class, provisioner, parameters, sets, "0.06")


def test_a_vm_is_live_migratable_only_when_every_volume_is_rwx_on_a_driver_that_can() -> None:
    profiles = {
        "rwx": _facts("rwx", "driver.longhorn.io", (((RWX,), "Block"), ((RWO,), "Block")), migratable="true"),
        "lvm": _facts("lvm", "lvm.driver.harvesterhci.io", (((RWX,), "Block"),)),
        "nfs": _facts("nfs", "nfs.csi.k8s.io", (((RWX,), "Filesystem"),)),
        "odd": _facts("odd", "csi.example.com", ()),
    }
    ok = volumes.judge_vm([{"name": "a", "image": {"size": "2Gi", "storage_class": "rwx"}}], profiles, "rwx")
    assert ok.live_migratable and ok.warnings == ()
    rwo = volumes.judge_vm(
        [{"name": "a", "new_volume": {"size": "1Gi", "storage_class": "rwx", "access_modes": ["READ_WRITE_ONCE"]}}],
        profiles,
        "rwx",
    )
    assert not rwo.live_migratable and "gets ReadWriteOnce" in rwo.blockers[0]
    # An override claiming RWX on LVM does not make local volumes shareable.
    lvm = volumes.judge_vm([{"name": "a", "image": {"size": "2Gi", "storage_class": "lvm"}}], profiles, "rwx")
    assert "LVM driver" in lvm.blockers[0] and "cannot live-migrate" in lvm.blockers[0]
    odd = volumes.judge_vm([{"name": "a", "new_volume": {"size": "1Gi", "storage_class": "odd"}}], profiles, "rwx")
    assert any("missing accessMode" in w for w in odd.warnings)
    nfs = volumes.judge_vm([{"name": "a", "new_volume": {"size": "1Gi"}}], profiles, "nfs").disks[0]
    assert (nfs.volume_mode, nfs.pvc_bytes) == ("Filesystem", math.ceil(2**30 / 0.94))
    existing = volumes.judge_vm([{"name": "a", "existing_claim": {"claim_name": "pvc"}}], profiles, "rwx")
    assert existing.disks == () and existing.live_migratable


@pytest.mark.parametrize(
    ("operation", "provisioner", "parameters", "reason"),
    [
        ("backup", "lvm.driver.harvesterhci.io", {}, "DRIVER_CANNOT_BACKUP"),
        ("snapshot", "nfs.csi.k8s.io", {}, "DRIVER_CANNOT_SNAPSHOT"),
        ("snapshot", "driver.longhorn.io", {"dataEngine": "v2"}, "DRIVER_CANNOT_SNAPSHOT"),
        ("backup", "rook-ceph.rbd.csi.ceph.com", {}, "DRIVER_CANNOT_BACKUP"),
        ("export_to_image", "csi.example.com", {}, "DRIVER_CANNOT_EXPORT"),
    ],
)
def test_operations_a_driver_cannot_do_are_refused_naming_it(
    operation: str, provisioner: str, parameters: dict[str, str], reason: str
) -> None:
    with pytest.raises(FailedPrecondition) as refused:
        volumes.check_volume_operation(operation, "default/disk", provisioner, parameters, attached=False)
    assert refused.value.reason == reason and provisioner in refused.value.message


def test_exporting_an_attached_volume_is_refused() -> None:
    volumes.check_volume_operation("snapshot", "d", "lvm.driver.harvesterhci.io", {}, attached=True)
    volumes.check_volume_operation("backup", "d", "driver.longhorn.io", {}, attached=True)
    volumes.check_volume_operation("export_to_image", "d", "nfs.csi.k8s.io", {}, attached=False)
    with pytest.raises(FailedPrecondition) as refused:
        volumes.check_volume_operation("export_to_image", "d", "nfs.csi.k8s.io", {}, attached=True)
    assert refused.value.reason == "VOLUME_ATTACHED"
