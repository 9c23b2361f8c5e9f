"""The bytes behind the completion timeout: KubeVirt's getVMIMigrationDataSize, as far as a spec can tell.

kubevirt `pkg/virt-launcher/virtwrap/manager.go` `getVMIMigrationDataSize`: guest memory, plus a block
migration's ephemeral disk files, plus volume-migrated volumes (never for Harrow's VMs); PVCs are not copied.
"""

from __future__ import annotations

from server.domain.live_migration import migration_data_size
from server.domain.migration_config import completion_timeout

RWX = {"name": "data", "new_volume": {"size": "500Gi", "access_modes": ["READ_WRITE_MANY"]}}


def spec(memory: str, *, cloud_init: bool = False, reserved: str = "") -> dict:
    out: dict = {"memory": memory, "run_strategy": "ALWAYS", "disks": [RWX]}
    if cloud_init:
        out["cloud_init"] = {"user_data": "#cloud-config\n"}
    if reserved:
        out["reserved_memory"] = reserved
    return out


def test_a_live_migration_moves_the_guest_memory_and_no_disk() -> None:
    size = migration_data_size(spec("8Gi"))
    assert (size.bytes, size.note) == (8 * 2**30, "")
    # The README's example: 8Gi at 800 s per 10^9 bytes is ceil(8.59) = 9 steps.
    assert completion_timeout(800, size.bytes).seconds == 7200


def test_the_guest_memory_is_the_memory_less_the_reserved_memory() -> None:
    assert migration_data_size(spec("4Gi", reserved="256Mi")).bytes == 4 * 2**30 - 256 * 2**20


def test_a_block_migration_says_how_much_room_the_ephemeral_files_have_before_the_timeout_grows() -> None:
    size = migration_data_size(spec("1Gi", cloud_init=True))
    assert size.bytes == 2**30
    assert "ephemeral disk files (the cloud-init ISO)" in size.note
    assert f"at most {2 * 10**9 - 2**30} bytes" in size.note


def test_on_a_whole_number_of_gigabytes_any_ephemeral_file_adds_a_step() -> None:
    size = migration_data_size(spec("2G", cloud_init=True))
    assert size.bytes == 2 * 10**9
    assert "at least one completion_timeout_per_gib longer than shown" in size.note
    assert completion_timeout(150, size.bytes).seconds == 300
