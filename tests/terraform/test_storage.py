"""harrow_storage_profile and the harrow_storage_class data source with the real terraform binary against kubesim.

A profile belongs to its StorageClass (CDI keeps one per class), so the resource only takes its
overrides over: apply sets them and the cluster shows them, an import by name plans nothing, and
destroy clears them while the profile stays.
"""

from __future__ import annotations

import json
from typing import Any

from tests.terraform.conftest import Rest, Terraform, eventually

HEADER = """
terraform {
  required_providers {
    harrow = { source = "harrow.io/harrow/harrow" }
  }
}

provider "harrow" {}
"""

PROFILE = (
    HEADER
    + """
resource "harrow_storage_profile" "rwo" {
  storage_class       = "$storage_class"
  filesystem_overhead = "$overhead"
  labels              = { team = "storage" }
  claim_property_set {
    access_modes = ["READ_WRITE_ONCE"]
    volume_mode  = "FILESYSTEM"
  }
}

# Harvester's mutator gave this class overrides (copy cloning, longhorn-snapshot), adopted by Harrow.
resource "harrow_storage_profile" "v2" {
  storage_class       = "longhorn-v2"
  filesystem_overhead = "0.12"
}

data "harrow_storage_class" "default" {
  name = "harvester-longhorn"
}

data "harrow_storage_class" "lvm" {
  name = "lvm"
}

output "profile" {
  value = {
    id         = harrow_storage_profile.rwo.id
    state      = harrow_storage_profile.rwo.state
    sets       = harrow_storage_profile.rwo.effective_claim_property_sets
    source     = harrow_storage_profile.rwo.claim_property_sets_source
    overhead   = harrow_storage_profile.rwo.effective_filesystem_overhead
    driver     = harrow_storage_profile.rwo.capabilities.driver
    rwx        = harrow_storage_profile.rwo.read_write_many
  }
}

output "classes" {
  value = {
    for name, sc in { default = data.harrow_storage_class.default, lvm = data.harrow_storage_class.lvm } :
    name => {
      provisioner    = sc.provisioner
      default_class  = sc.default_class
      profile        = sc.profile
      sets           = sc.claim_property_sets
      live_migration = sc.capabilities.live_migration
      snapshot       = sc.capabilities.snapshot
      backup         = sc.capabilities.backup
      rwx            = sc.read_write_many
    }
  }
}
"""
)

NAME = "clusters/local/storageProfiles/longhorn-rwo"
V2 = "clusters/local/storageProfiles/longhorn-v2"
OVERHEAD_ANNOTATION = "cdi.harvesterhci.io/filesystemOverhead"


async def resource_actions(terraform: Terraform) -> dict[str, list[str]]:
    """What the plan does to each resource (outputs aside: an import leaves them unset until the next apply)."""
    await terraform.run("plan", "-input=false", "-out=plan.bin")
    plan = json.loads((await terraform.run("show", "-json", "plan.bin")).out)
    return {change["address"]: change["change"]["actions"] for change in plan["resource_changes"]}


async def observed(rest: Rest, name: str) -> dict[str, Any]:
    """The profile once Harrow has observed its StorageClass (a fresh Harrow folds the cluster in first)."""

    async def found() -> dict[str, Any] | None:
        status, profile = await rest.get(name)
        return profile if status == 200 and not profile.get("reconciling") else None

    result: dict[str, Any] = await eventually(found, within=20.0)
    return result


async def test_profile_overrides_apply_update_import_and_destroy_leaving_the_profile(
    terraform: Terraform, rest: Rest
) -> None:
    untouched = await observed(rest, NAME)
    assert untouched.get("spec", {}) == {}
    adopted = (await observed(rest, V2))["spec"]
    assert adopted == {"cloneStrategy": "COPY", "snapshotClass": "longhorn-snapshot"}

    # Terraform cannot make a profile: a class that does not exist is refused, naming those that do.
    terraform.write(PROFILE, storage_class="no-such-class", overhead="0.1")
    failed = await terraform.apply_failing()
    message = " ".join(failed.err.split())
    assert 'The StorageClass "no-such-class" does not exist on cluster "local"' in message
    assert "longhorn-rwo" in message and "rook-ceph-block" in message

    terraform.write(PROFILE, storage_class="longhorn-rwo", overhead="0.1")
    try:
        await terraform.apply()
        outputs = await terraform.outputs()
        # The cluster shows the overrides when apply returns; what the user wrote is echoed unchanged.
        assert outputs["profile"] == {
            "id": NAME,
            "state": "READY",
            "sets": [{"access_modes": ["READ_WRITE_ONCE"], "volume_mode": "FILESYSTEM"}],
            "source": "SPEC",
            "overhead": "0.1",
            "driver": "longhorn-v1",
            "rwx": False,
        }
        classes = outputs["classes"]
        assert classes["default"]["provisioner"] == "driver.longhorn.io" and classes["default"]["default_class"]
        assert classes["default"]["profile"] == "clusters/local/storageProfiles/harvester-longhorn"
        assert classes["default"]["rwx"] and classes["default"]["live_migration"] and classes["default"]["backup"]
        assert classes["lvm"]["sets"] == [{"access_modes": ["READ_WRITE_ONCE"], "volume_mode": "BLOCK"}]
        assert not classes["lvm"]["rwx"] and classes["lvm"]["snapshot"] and not classes["lvm"]["backup"]
        _, stored = await rest.get(NAME)
        assert stored["spec"]["filesystemOverhead"] == "0.1"
        assert (await rest.get(V2))[1]["spec"] == {"filesystemOverhead": "0.12"}
        assert (await rest.get("clusters/local/storageClasses/longhorn-rwo"))[1]["annotations"][
            OVERHEAD_ANNOTATION
        ] == "0.1"
        assert await terraform.plan_is_empty()

        # In place, with the etag: the effective value follows before apply returns.
        terraform.write(PROFILE, storage_class="longhorn-rwo", overhead="0.15")
        await terraform.apply()
        assert (await terraform.outputs())["profile"]["overhead"] == "0.15"
        assert await terraform.plan_is_empty()

        # A change through Harrow's API shows in the plan.
        _, stored = await rest.get(NAME)
        await rest.wait(await rest.patch(NAME, {"etag": stored["etag"], "spec": {"filesystemOverhead": "0.3"}}, "spec"))
        # apply prints the plan it carries out: the drift is read there (a separate `plan` cost a terraform run).
        drifted = await terraform.apply()
        assert '~ filesystem_overhead = "0.3" -> "0.15"' in " ".join(drifted.out.split())

        # Import by Harrow resource name: every attribute filled, nothing to change.
        await terraform.run("state", "rm", "harrow_storage_profile.rwo")
        await terraform.run("import", "-input=false", "harrow_storage_profile.rwo", NAME)
        assert await resource_actions(terraform) == {
            "harrow_storage_profile.rwo": ["no-op"],
            "harrow_storage_profile.v2": ["no-op"],
        }
    finally:
        await terraform.run("destroy", "-auto-approve", "-input=false")

    # Destroy clears the overrides, on the cluster too; the profile stays, as its StorageClass does.
    status, profile = await rest.get(NAME)
    assert status == 200 and profile.get("spec", {}) == {} and profile.get("labels", {}) == {}
    assert (
        profile["status"]["filesystemOverhead"]["effective"] == untouched["status"]["filesystemOverhead"]["effective"]
    )
    _, storage_class = await rest.get("clusters/local/storageClasses/longhorn-rwo")
    assert OVERHEAD_ANNOTATION not in storage_class.get("annotations", {})
    # A profile that had overrides before Terraform took it over gets those back.
    assert (await rest.get(V2))[1]["spec"] == adopted
