"""StorageService through the SDK: what a Terraform data source and a script need (look a class up by name,
read its profile, preview an override)."""

from __future__ import annotations

import asyncio

import harrow
import pytest
from harrow.v1 import storage_pb2, virtual_machine_pb2

PROFILE = "clusters/local/storageProfiles/lvm"


async def test_storage_classes_profiles_and_capabilities(client: harrow.Client) -> None:
    async def classes() -> list[str]:
        return [c.name async for c in client.list_storage_classes(parent="clusters/local", page_size=2)]

    for _ in range(300):  # the reconciler observes the cluster's classes shortly after start
        if len(names := await classes()) == 6:
            break
        await asyncio.sleep(0.1)
    assert "clusters/local/storageClasses/nfs" in names
    nfs = await client.get_storage_class(name="clusters/local/storageClasses/nfs")
    assert nfs.capabilities.driver == "nfs" and nfs.profile.status.read_write_many
    profiles = [p.name async for p in client.list_storage_profiles(parent="clusters/local")]
    assert PROFILE in profiles
    lvm = await client.get_storage_profile(name=PROFILE)
    assert not lvm.status.capabilities.live_migration.supported

    table = await client.list_storage_capabilities()
    assert [row.driver for row in table.capabilities][-1] == "unknown"
    (row,) = (
        await client.list_storage_capabilities(provisioner="driver.longhorn.io", parameters={"dataEngine": "v2"})
    ).capabilities
    assert row.driver == "longhorn-v2" and not row.backup.supported

    override = storage_pb2.StorageProfile(
        name=PROFILE,
        etag=lvm.etag,
        spec=storage_pb2.StorageProfileSpec(
            claim_property_sets=[
                storage_pb2.ClaimPropertySet(
                    access_modes=[virtual_machine_pb2.READ_WRITE_ONCE], volume_mode=virtual_machine_pb2.BLOCK
                ),
                storage_pb2.ClaimPropertySet(
                    access_modes=[virtual_machine_pb2.READ_WRITE_MANY], volume_mode=virtual_machine_pb2.BLOCK
                ),
            ]
        ),
    )
    with pytest.raises(harrow.InvalidArgument) as refused:
        await client.update_storage_profile(
            storage_profile=override, update_mask=["spec.claim_property_sets"], validate_only=True
        )
    assert "storage_profile.spec.claim_property_sets[1].volume_mode" in str(refused.value.field_violations)
    assert (await client.get_storage_profile(name=PROFILE)).etag == lvm.etag
