"""Storage profiles against kubesim: one per StorageClass of each of the five provisioners, with their capabilities
and effective claim property sets; overrides land as StorageClass annotations on Harvester (and survive its
reconciliation) and in the StorageProfile spec on plain CDI."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import grpc
import pytest
import yaml
from google.protobuf import field_mask_pb2
from harrow.v1 import common_pb2 as common_pb
from harrow.v1 import migration_pb2 as mig_pb
from harrow.v1 import storage_pb2 as pb
from harrow.v1 import virtual_machine_pb2 as vm_pb
from kubernetes_asyncio import client, config

from kubesim import KubeSim, KubeSimConfig
from server.app import Harrow
from tests.e2e.clients import ApiError, GrpcApi
from tests.e2e.reconcile.conftest import eventually, fast_settings, operation_done

CLUSTER = "clusters/local"
SP = ("cdi.kubevirt.io", "v1beta1", "storageprofiles")
SC = ("storage.k8s.io", "v1", "storageclasses")
RWO, RWX = vm_pb.READ_WRITE_ONCE, vm_pb.READ_WRITE_MANY
BLOCK, FS = vm_pb.BLOCK, vm_pb.FILESYSTEM


@dataclass
class World:
    sim: KubeSim
    api: GrpcApi
    kube: client.ApiClient

    async def profile(self, name: str) -> pb.StorageProfile:
        request = pb.GetStorageProfileRequest(name=f"{CLUSTER}/storageProfiles/{name}")
        profile: pb.StorageProfile = await self.api.call("StorageService", "GetStorageProfile", request)
        return profile

    async def cluster_object(self, what: tuple[str, str, str], name: str) -> dict[str, object]:
        found: dict[str, object] = await client.CustomObjectsApi(self.kube).get_cluster_custom_object(*what, name)
        return found


async def _world(database_url: str, harvester: bool, cdi_version: str = "v1.65.0") -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        sim = KubeSim(KubeSimConfig(clock_scale=400.0, harvester=harvester, cdi_version=cdi_version))
        await sim.start()
        stack.push_async_callback(sim.stop)
        settings = fast_settings(database_url, database_pool_size=5)
        app = Harrow(settings, local_kubeconfig=yaml.safe_dump(sim.kubeconfig()))
        endpoints = await app.start()
        stack.push_async_callback(app.stop, 0)
        channel = await stack.enter_async_context(grpc.aio.insecure_channel(endpoints.grpc))
        configuration = client.Configuration()
        await config.load_kube_config_from_dict(sim.kubeconfig(), client_configuration=configuration)
        kube = await stack.enter_async_context(client.ApiClient(configuration))
        world = World(sim, GrpcApi(channel), kube)

        async def all_ready() -> bool:
            listing = await world.api.call(
                "StorageService", "ListStorageProfiles", pb.ListStorageProfilesRequest(parent=CLUSTER)
            )
            return len(listing.storage_profiles) == 6 and all(not p.reconciling for p in listing.storage_profiles)

        await eventually(all_ready, within=30.0)
        yield world


@pytest.fixture
async def harvester(database_url: str) -> AsyncIterator[World]:
    async for world in _world(database_url, harvester=True):
        yield world


@pytest.fixture
async def plain(database_url: str) -> AsyncIterator[World]:
    # An older CDI: its default filesystem overhead is the seeds' 5.5%.
    async for world in _world(database_url, harvester=False, cdi_version="v1.63.0"):
        yield world


def _sets(profile: pb.StorageProfile) -> list[tuple[list[int], int]]:
    return [(list(s.access_modes), s.volume_mode) for s in profile.status.claim_property_sets]


async def test_each_provisioner_shows_its_driver_capabilities_and_effective_claim_property_sets(
    harvester: World,
) -> None:
    expected = {
        # class: (driver, effective sets, RWX, snapshot, backup)
        "harvester-longhorn": ("longhorn-v1", [([RWX], BLOCK), ([RWO], BLOCK)], True, True, True),
        "longhorn-rwo": ("longhorn-v1", [([RWO], BLOCK)], False, True, True),
        "longhorn-v2": ("longhorn-v2", [([RWX], BLOCK), ([RWO], BLOCK)], True, False, False),
        "lvm": ("lvm", [([RWO], BLOCK)], False, True, False),
        "nfs": ("nfs", [([RWX], FS)], True, False, False),
        "rook-ceph-block": ("rook-rbd", [([RWX], BLOCK), ([RWO], BLOCK), ([RWO], FS)], True, True, False),
    }
    for name, (driver, sets, rwx, snapshot, backup) in expected.items():
        profile = await harvester.profile(name)
        assert profile.state == pb.StorageProfile.READY, name
        assert profile.status.capabilities.driver == driver
        assert _sets(profile) == sets, name
        assert profile.status.read_write_many is rwx, name
        assert profile.status.capabilities.snapshot.supported is snapshot, name
        assert profile.status.capabilities.backup.supported is backup, name
        assert profile.status.capabilities.live_migration.source
    lvm = await harvester.profile("lvm")
    # Harvester's mutator put LVM's sets on the class; Harrow adopted them as the profile's spec.
    assert lvm.status.claim_property_sets_source == pb.StorageProfileStatus.SPEC
    assert lvm.status.clone_strategy == pb.SNAPSHOT and lvm.status.snapshot_class == "lvm-snapshot"
    rbd = await harvester.profile("rook-ceph-block")
    assert rbd.status.claim_property_sets_source == pb.StorageProfileStatus.CDI_DEFAULTS
    assert rbd.status.clone_strategy == pb.CSI_CLONE
    assert rbd.status.data_import_cron_source_format == pb.VOLUME_SNAPSHOT
    # CDI 1.65 (kubesim's default) uses 6%; the seeds' 5.5% belongs to older releases.
    assert rbd.status.filesystem_overhead.effective == "0.06"
    assert rbd.status.filesystem_overhead.cdi_default == "0.06"
    assert rbd.status.scratch_space_storage_class == "harvester-longhorn"

    storage_class = await harvester.api.call(
        "StorageService", "GetStorageClass", pb.GetStorageClassRequest(name=f"{CLUSTER}/storageClasses/nfs")
    )
    assert storage_class.provisioner == "nfs.csi.k8s.io"
    assert storage_class.capabilities.driver == "nfs"
    assert storage_class.profile.name == f"{CLUSTER}/storageProfiles/nfs"


def _vm(
    disks: list[vm_pb.Disk], eviction: int = vm_pb.VirtualMachineSpec.EVICTION_STRATEGY_UNSPECIFIED
) -> vm_pb.VirtualMachine:
    return vm_pb.VirtualMachine(
        spec=vm_pb.VirtualMachineSpec(
            cpu=vm_pb.CpuTopology(cores=1),
            memory="1Gi",
            run_strategy=vm_pb.VirtualMachineSpec.HALTED,
            disks=disks,
            eviction_strategy=eviction,
        )
    )


def _image(name: str, storage_class: str, size: str = "2Gi") -> vm_pb.Disk:
    return vm_pb.Disk(
        name=name, image=vm_pb.ImageSource(url="https://example.com/a.qcow2", size=size, storage_class=storage_class)
    )


def _volume(name: str, storage_class: str, modes: list[int] | None = None) -> vm_pb.Disk:
    return vm_pb.Disk(
        name=name, new_volume=vm_pb.NewVolume(size="1Gi", storage_class=storage_class, access_modes=modes or [])
    )


async def _create(world: World, vm_id: str, vm: vm_pb.VirtualMachine) -> list[str]:
    request = vm_pb.CreateVirtualMachineRequest(
        parent=f"{CLUSTER}/namespaces/default", virtual_machine_id=vm_id, virtual_machine=vm
    )
    operation = await world.api.call("VirtualMachineService", "CreateVirtualMachine", request)
    metadata = common_pb.OperationMetadata()
    operation.metadata.Unpack(metadata)
    return list(metadata.warnings)


async def test_vm_disks_are_judged_by_their_class_before_anything_is_created(harvester: World) -> None:
    # RWX classes of drivers that can live-migrate: no warning.
    for vm_id, disk in (
        ("on-longhorn", _image("root", "harvester-longhorn")),
        ("on-longhorn-v2", _image("root", "longhorn-v2")),
        ("on-nfs", _volume("data", "nfs")),
        ("on-rbd", _volume("data", "rook-ceph-block")),
    ):
        assert await _create(harvester, vm_id, _vm([disk])) == [], vm_id
    # Classes whose volumes are ReadWriteOnce: accepted, with a warning naming the disk and the driver.
    for vm_id, disk, driver in (
        ("on-lvm", _image("root", "lvm"), "(LVM, lvm.driver.harvesterhci.io)"),
        ("on-longhorn-rwo", _image("root", "longhorn-rwo"), "(Longhorn v1 data engine, driver.longhorn.io)"),
        ("on-rbd-rwo", _volume("data", "rook-ceph-block", [RWO]), "(Rook Ceph RBD, rook-ceph.rbd.csi.ceph.com)"),
    ):
        warnings = await _create(harvester, vm_id, _vm([disk]))
        assert len(warnings) == 1 and "not live-migratable" in warnings[0], vm_id
        assert f'disk "{disk.name}"' in warnings[0] and driver in warnings[0], warnings[0]
    # The same disk with an eviction strategy that needs live migration is refused, nothing created.
    with pytest.raises(ApiError) as refused:
        await _create(harvester, "must-migrate", _vm([_image("root", "lvm")], vm_pb.VirtualMachineSpec.LIVE_MIGRATE))
    assert refused.value.code == "FAILED_PRECONDITION"
    assert refused.value.reason == "DISKS_NOT_LIVE_MIGRATABLE"
    assert refused.value.metadata == {"disk": "root", "storage_class": "lvm", "driver": "lvm"}
    # Seed 003's infinite import loop: an image volume under 1 GB with the default overhead.
    warnings = await _create(harvester, "tiny-image", _vm([_image("root", "nfs", size="500Mi")]))
    assert len(warnings) == 1 and "filesystem_overhead" in warnings[0] and '"0.2"' in warnings[0]

    # Status shows each volume as the profiles make it, with CDI's inflated PVC size for Filesystem volumes.
    async def judged() -> vm_pb.VirtualMachine | None:
        vm = await harvester.api.call(
            "VirtualMachineService",
            "GetVirtualMachine",
            vm_pb.GetVirtualMachineRequest(name=f"{CLUSTER}/namespaces/default/virtualMachines/on-nfs"),
        )
        return vm if vm.status.disks else None

    nfs = (await eventually(judged, within=20.0)).status.disks[0]
    assert (nfs.driver, list(nfs.access_modes), nfs.volume_mode) == ("nfs", [RWX], FS)
    assert nfs.requested_bytes == 2**30
    assert nfs.pvc_bytes == math.ceil(2**30 / (1 - 0.06)) and nfs.filesystem_overhead == "0.06"
    assert nfs.live_migratable

    # An update is judged like a create: adding an LVM disk warns, and refuses when the VM must live-migrate.
    async def update(vm_id: str, spec: vm_pb.VirtualMachineSpec, paths: list[str]) -> list[str]:
        request = vm_pb.UpdateVirtualMachineRequest(
            virtual_machine=vm_pb.VirtualMachine(
                name=f"{CLUSTER}/namespaces/default/virtualMachines/{vm_id}", spec=spec
            ),
            update_mask=field_mask_pb2.FieldMask(paths=paths),
        )
        operation = await harvester.api.call("VirtualMachineService", "UpdateVirtualMachine", request)
        metadata = common_pb.OperationMetadata()
        operation.metadata.Unpack(metadata)
        return list(metadata.warnings)

    with_lvm = [_image("root", "harvester-longhorn"), _volume("scratch", "lvm")]
    warnings = await update("on-longhorn", vm_pb.VirtualMachineSpec(disks=with_lvm), ["spec.disks"])
    assert len(warnings) == 1 and 'disk "scratch"' in warnings[0] and "lvm.driver.harvesterhci.io" in warnings[0]
    with pytest.raises(ApiError) as refused_update:
        v2_with_lvm = [_image("root", "longhorn-v2"), _volume("scratch", "lvm")]
        must_migrate = vm_pb.VirtualMachineSpec(
            disks=v2_with_lvm, eviction_strategy=vm_pb.VirtualMachineSpec.LIVE_MIGRATE
        )
        await update("on-longhorn-v2", must_migrate, ["spec.disks", "spec.eviction_strategy"])
    assert (refused_update.value.code, refused_update.value.reason) == (
        "FAILED_PRECONDITION",
        "DISKS_NOT_LIVE_MIGRATABLE",
    )
    unchanged = await harvester.api.call(
        "VirtualMachineService",
        "GetVirtualMachine",
        vm_pb.GetVirtualMachineRequest(name=f"{CLUSTER}/namespaces/default/virtualMachines/on-longhorn-v2"),
    )
    assert [d.name for d in unchanged.spec.disks] == ["root"]

    # The migration service judges by the same verdict: the LVM VM is refused for its disk, not its run state.
    lvm_vm = f"{CLUSTER}/namespaces/default/virtualMachines/on-lvm"

    async def lvm_judged() -> bool:
        vm = await harvester.api.call(
            "VirtualMachineService", "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=lvm_vm)
        )
        return bool(vm.status.live_migration_blockers)

    await eventually(lvm_judged, within=20.0)
    with pytest.raises(ApiError) as not_migratable:
        migrate = mig_pb.MigrateVirtualMachineRequest(name=lvm_vm, migration_id="m1")
        await harvester.api.call("MigrationService", "MigrateVirtualMachine", migrate)
    assert not_migratable.value.code == "FAILED_PRECONDITION"
    assert "lvm.driver.harvesterhci.io" in not_migratable.value.message


async def test_a_harvester_override_lands_as_storage_class_annotations_and_survives_harvester(harvester: World) -> None:
    profile = await harvester.profile("rook-ceph-block")
    profile.spec.claim_property_sets.add(access_modes=[RWX, RWO], volume_mode=BLOCK)
    profile.spec.clone_strategy = pb.SNAPSHOT
    profile.spec.snapshot_class = "rbd-snapshots"
    profile.spec.filesystem_overhead = "0.2"
    request = pb.UpdateStorageProfileRequest(
        storage_profile=profile, update_mask=field_mask_pb2.FieldMask(paths=["spec"])
    )
    operation = await harvester.api.call("StorageService", "UpdateStorageProfile", request)
    done = await _wait(harvester.api, operation)
    assert not done.HasField("error"), done.error

    sc = await harvester.cluster_object(SC, "rook-ceph-block")
    annotations = sc["metadata"]["annotations"]  # type: ignore[index]
    assert json.loads(annotations["cdi.harvesterhci.io/storageProfileVolumeModeAccessModes"]) == {
        "Block": ["ReadWriteMany", "ReadWriteOnce"]
    }
    assert annotations["cdi.harvesterhci.io/storageProfileCloneStrategy"] == "snapshot"
    assert annotations["cdi.harvesterhci.io/filesystemOverhead"] == "0.2"
    sp = await harvester.cluster_object(SP, "rook-ceph-block")
    assert sp["spec"]["cloneStrategy"] == "snapshot"  # type: ignore[index]

    # Someone edits the StorageProfile spec directly: Harvester puts its annotations' values back.
    sp["spec"] = {"cloneStrategy": "copy"}
    await client.CustomObjectsApi(harvester.kube).replace_cluster_custom_object(*SP, "rook-ceph-block", sp)

    async def reverted() -> bool:
        current = await harvester.cluster_object(SP, "rook-ceph-block")
        return current["spec"].get("cloneStrategy") == "snapshot"  # type: ignore[index,union-attr]

    await eventually(reverted, within=20.0)

    # Someone removes Harrow's annotation from the class: Harrow puts it back (drift).
    sc = await harvester.cluster_object(SC, "rook-ceph-block")
    del sc["metadata"]["annotations"]["cdi.harvesterhci.io/storageProfileCloneStrategy"]  # type: ignore[index]
    await client.CustomObjectsApi(harvester.kube).replace_cluster_custom_object(*SC, "rook-ceph-block", sc)

    async def restored() -> bool:
        current = await harvester.cluster_object(SC, "rook-ceph-block")
        annotations = current["metadata"]["annotations"]  # type: ignore[index]
        return annotations.get("cdi.harvesterhci.io/storageProfileCloneStrategy") == "snapshot"  # type: ignore[no-any-return,union-attr]

    await eventually(restored, within=20.0)

    async def settled() -> pb.StorageProfile | None:
        current = await harvester.profile("rook-ceph-block")
        return current if current.status.clone_strategy == pb.SNAPSHOT else None

    shown = await eventually(settled, within=20.0)
    assert shown.status.clone_strategy == pb.SNAPSHOT
    assert shown.status.filesystem_overhead.effective == "0.2"
    assert shown.status.claim_property_sets_source == pb.StorageProfileStatus.SPEC
    assert shown.spec == profile.spec


async def test_a_plain_cdi_override_lands_in_the_storage_profile_spec(plain: World) -> None:
    lvm = await plain.profile("lvm")
    # Plain CDI has no defaults for LVM: volumes must name access modes until the profile gets sets.
    assert lvm.state == pb.StorageProfile.UNRECOGNIZED
    assert lvm.status.claim_property_sets_source == pb.StorageProfileStatus.NONE
    overhead = lvm.status.filesystem_overhead
    assert (overhead.effective, overhead.cdi_default, overhead.cdi_version) == ("0.055", "0.055", "v1.63.0")
    lvm.spec.claim_property_sets.add(access_modes=[RWO], volume_mode=BLOCK)
    lvm.spec.filesystem_overhead = "0.1"
    operation = await plain.api.call(
        "StorageService", "UpdateStorageProfile", pb.UpdateStorageProfileRequest(storage_profile=lvm)
    )
    done = await _wait(plain.api, operation)
    assert not done.HasField("error"), done.error
    sp = await plain.cluster_object(SP, "lvm")
    assert sp["spec"]["claimPropertySets"] == [{"accessModes": ["ReadWriteOnce"], "volumeMode": "Block"}]  # type: ignore[index]
    sc = await plain.cluster_object(SC, "lvm")
    assert not any(k.startswith("cdi.harvesterhci.io") for k in sc["metadata"].get("annotations") or {})  # type: ignore[union-attr]
    cdi = await plain.cluster_object(("cdi.kubevirt.io", "v1beta1", "cdis"), "cdi")
    assert cdi["spec"]["config"]["filesystemOverhead"]["storageClass"] == {"lvm": "0.1"}  # type: ignore[index]
    shown = await plain.profile("lvm")
    assert shown.state == pb.StorageProfile.READY
    assert _sets(shown) == [([RWO], BLOCK)]
    assert (shown.status.filesystem_overhead.effective, shown.status.filesystem_overhead.source) == (
        "0.1",
        "storage class",
    )

    # Seed 004's scratch-space rule, driven by the CDI CR: a configured class that exists wins; one that does not
    # exist falls back to the cluster's default class.
    async def scratch_class_becomes(configured: str, expected: str) -> None:
        patch = {"spec": {"config": {"scratchSpaceStorageClass": configured}}}
        await client.CustomObjectsApi(plain.kube).patch_cluster_custom_object(
            "cdi.kubevirt.io", "v1beta1", "cdis", "cdi", patch, _content_type="application/merge-patch+json"
        )

        async def shows_it() -> bool:
            return (await plain.profile("lvm")).status.scratch_space_storage_class == expected

        await eventually(shows_it, within=20.0)

    classes = await client.StorageV1Api(plain.kube).list_storage_class()
    default_class = next(
        c.metadata.name
        for c in classes.items
        if (c.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    )
    assert default_class != "nfs"
    await scratch_class_becomes("nfs", "nfs")
    await scratch_class_becomes("no-such-class", default_class)


async def _wait(api: GrpcApi, operation: object) -> object:
    return await operation_done(api, operation, within=30.0)  # type: ignore[arg-type]
