"""Live-migratability from intent: virt-handler's DisksNotLiveMigratable as far as a spec can tell."""

from __future__ import annotations

from server.domain.live_migration import guest_memory_bytes, migratability


def spec(*disks: dict, cloud_init: bool = False) -> dict:
    out: dict = {"memory": "4Gi", "run_strategy": "ALWAYS", "disks": list(disks)}
    if cloud_init:
        out["cloud_init"] = {"user_data": "#cloud-config\n"}
    return out


RWX = {"name": "data", "new_volume": {"size": "10Gi", "access_modes": ["READ_WRITE_MANY"]}}
RWO = {"name": "scratch", "new_volume": {"size": "10Gi", "access_modes": ["READ_WRITE_ONCE"]}}
IMAGE = {"name": "root", "image": {"url": "https://example.com/a.img", "size": "10Gi"}}
CLAIM = {"name": "old", "existing_claim": {"claim_name": "legacy-pvc"}}


def test_shared_disks_on_a_running_vm_are_migratable_by_live_migration() -> None:
    verdict = migratability(spec(RWX), "RUNNING", [])
    assert (verdict.status, verdict.method) == ("LIVE_MIGRATABLE", "LIVE_MIGRATION")


def test_a_non_rwx_volume_is_disks_not_live_migratable_even_when_stopped() -> None:
    verdict = migratability(spec(RWX, RWO), "STOPPED", [])
    assert (verdict.status, verdict.reason, verdict.method) == (
        "NOT_LIVE_MIGRATABLE",
        "DisksNotLiveMigratable",
        "BLOCK_MIGRATION",
    )
    assert 'disk "scratch" asks for READ_WRITE_ONCE' in verdict.message


def test_a_stopped_vm_cannot_migrate_now() -> None:
    verdict = migratability(spec(RWX), "STOPPED", [])
    assert (verdict.status, verdict.reason) == ("NOT_LIVE_MIGRATABLE", "VirtualMachineNotRunning")


def test_access_modes_chosen_by_the_cluster_are_unknown_until_observed() -> None:
    verdict = migratability(spec(IMAGE, CLAIM), "RUNNING", [])
    assert verdict.status == "UNKNOWN"
    assert "StorageProfile" in verdict.message and "legacy-pvc" in verdict.message


def test_the_clusters_condition_is_authoritative() -> None:
    condition = {"type": "LiveMigratable", "status": "FALSE", "reason": "HostDeviceNotLiveMigratable", "message": "gpu"}
    verdict = migratability(spec(IMAGE), "RUNNING", [condition])
    assert (verdict.status, verdict.reason, verdict.message) == (
        "NOT_LIVE_MIGRATABLE",
        "HostDeviceNotLiveMigratable",
        "gpu",
    )
    assert migratability(spec(IMAGE), "RUNNING", [{**condition, "status": "TRUE"}]).status == "LIVE_MIGRATABLE"


def test_cloud_init_makes_it_a_block_migration() -> None:
    assert migratability(spec(RWX, cloud_init=True), "RUNNING", []).method == "BLOCK_MIGRATION"


def test_guest_memory_is_memory_less_the_reservation() -> None:
    assert guest_memory_bytes({"memory": "4Gi", "reserved_memory": "256Mi"}) == 4 * 1024**3 - 256 * 1024**2
