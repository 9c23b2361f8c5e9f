"""The capability table: the seed's cells, every cell sourced, and the README showing exactly the generated table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.domain import storage_capabilities as caps

README = Path(__file__).parents[3] / "README.md"


@pytest.mark.parametrize(
    ("provisioner", "parameters", "driver"),
    [
        ("driver.longhorn.io", {}, caps.LONGHORN_V1),
        ("driver.longhorn.io", {"dataEngine": "v1", "migratable": "true"}, caps.LONGHORN_V1),
        ("driver.longhorn.io", {"dataEngine": "v2"}, caps.LONGHORN_V2),
        ("lvm.driver.harvesterhci.io", {}, caps.LVM),
        ("nfs.csi.k8s.io", {}, caps.NFS),
        ("rook-ceph.rbd.csi.ceph.com", {}, caps.ROOK_RBD),
        ("rbd.csi.ceph.com", {}, caps.ROOK_RBD),
        ("storage.rbd.csi.ceph.com", {}, caps.ROOK_RBD),
        ("csi.example.com", {}, caps.UNKNOWN),
    ],
)
def test_a_class_finds_its_driver_row(provisioner: str, parameters: dict[str, str], driver: str) -> None:
    assert caps.driver_of(provisioner, parameters) == driver


def test_the_validated_drivers_match_seed_003s_table() -> None:
    # Seed 003, "The validated CSI drivers have the following capabilities" (✔/✖ in its column order).
    seed = {
        caps.LONGHORN_V2: "✔✔✔✔✔✔✖✖",
        caps.LVM: "✔✔✔✔✔✖✔✖",
        caps.NFS: "✔✔✔✔✔✔✖✖",
        caps.ROOK_RBD: "✔✔✔✔✔✔✔✖",
    }
    for driver, marks in seed.items():
        row = caps.BY_DRIVER[driver]
        assert "".join("✔" if row.cell(a).supported else "✖" for a in caps.ACTIONS) == marks, driver
    # "Backup support is currently limited to Longhorn V1 Data Engine volumes."
    assert [row.driver for row in caps.TABLE if row.cell("backup").supported] == [caps.LONGHORN_V1]


def test_every_cell_names_its_source() -> None:
    for row in caps.TABLE:
        for action in caps.ACTIONS:
            assert row.cell(action).source, (row.driver, action)
        assert row.default_sets_source, row.driver
    assert caps.BY_DRIVER[caps.UNKNOWN].default_sets == ()


def test_the_generator_prints_the_table_and_the_readme_shows_exactly_it() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "server.domain.storage_capabilities", "--markdown"],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[3],
    ).stdout
    assert printed == caps.markdown()
    assert "| LVM | `lvm.driver.harvesterhci.io` | ✔ | ✔ | ✔ | ✔ | ✔ | ✖* | ✔ | ✖ |" in printed
    readme = README.read_text()
    assert "## Storage profiles" in readme
    assert caps.markdown() in readme, "the README shows a stale capability table"
