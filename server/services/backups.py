"""Snapshots, backups and image exports of VMs (issue 7): refused up front when the VM's storage cannot serve them.

Users used to learn at failure time that a driver cannot snapshot or back up,
or that an export of an attached volume stays Exporting forever. Here a
Create judges every volume disk of the VM against its StorageClass's driver
row in the capability table (domain/storage_capabilities.py, through
domain/storage_volumes.check_volume_operation) before anything is written, and
refuses with FAILED_PRECONDITION naming the disk, the StorageClass and the
driver. What passes is recorded the way every family records intent
(services/intent.py) and reconciled by reconcile/backup_worker.py.

The object a backup becomes is chosen from the cluster's flavour when it is
accepted (reconcile/translate_backup.py) and kept in its status with the
volumes as judged, so the answer does not change under it. That is the one
status the API writes, at creation, before any worker can claim the row; the
worker keeps those keys and adds what the cluster reports. A backup or image
keeps its VM's uid but not a reference: it outlives the VM, as in Harvester.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from google.longrunning import operations_pb2
from google.protobuf import empty_pb2, json_format
from google.protobuf.message import Message
from harrow.v1 import backup_pb2 as pb
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain import page_token, storage_capabilities, storage_volumes
from server.domain.errors import AlreadyExists, FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from server.domain.filtering import FieldKind, check_fields, parse_filter
from server.domain.labels import annotation_violations, label_violations
from server.domain.names import NamespaceName, check_id, parse_namespace_name, parse_vm_name
from server.reconcile.translate import disk_claim_name
from server.reconcile.translate_backup import HARVESTER_IMAGE, backup_kind
from server.services import common, intent, storage_checks
from storage.db import Database
from storage.filters import Column, to_sql
from storage.models import ClusterRow, VirtualMachineRow, VmBackupRow, VmImageRow
from storage.repos import resources

Obj = dict[str, Any]
Row = TypeVar("Row", VmBackupRow, VmImageRow)
BACKUP_KIND_NAME = "VirtualMachineBackup"
IMAGE_KIND_NAME = "VirtualMachineImage"


# --- names and protos -----------------------------------------------------------------------------


def _parse(value: str, field: str, collection: str) -> tuple[NamespaceName, str]:
    parent, sep, resource_id = value.rpartition(f"/{collection}/")
    pattern = f"clusters/{{cluster}}/namespaces/{{namespace}}/{collection}/{{id}}"
    if not sep or not resource_id or "/" in resource_id:
        raise InvalidArgument.for_field(field, f'"{value}" does not match {pattern}')
    namespace = parse_namespace_name(parent, field)
    check_id(resource_id, field)
    return namespace, resource_id


def parse_backup_name(value: str, field: str = "name") -> tuple[NamespaceName, str]:
    return _parse(value, field, "virtualMachineBackups")


def parse_image_name(value: str, field: str = "name") -> tuple[NamespaceName, str]:
    return _parse(value, field, "images")


def _fill(message: Any, row: VmBackupRow | VmImageRow) -> None:
    common.fill_resource_fields(message, row)
    json_format.ParseDict(row.spec, message.spec)
    json_format.ParseDict(row.status, message.status, ignore_unknown_fields=True)


def backup_to_proto(row: VmBackupRow) -> pb.VirtualMachineBackup:
    message = pb.VirtualMachineBackup(state=pb.VirtualMachineBackup.State.Value(row.state))
    _fill(message, row)
    return message


def image_to_proto(row: VmImageRow) -> pb.VirtualMachineImage:
    message = pb.VirtualMachineImage(state=pb.VirtualMachineImage.State.Value(row.state))
    _fill(message, row)
    return message


def parent_of(row: VmBackupRow | VmImageRow) -> str:
    return f"clusters/{row.cluster}/namespaces/{row.namespace}"


BACKUP_KIND = intent.Kind[VmBackupRow](name=BACKUP_KIND_NAME, to_proto=backup_to_proto, parent_of=parent_of)
IMAGE_KIND = intent.Kind[VmImageRow](name=IMAGE_KIND_NAME, to_proto=image_to_proto, parent_of=parent_of)


# --- judging a VM's volumes -----------------------------------------------------------------------


def _volume_attached(vm: VirtualMachineRow) -> bool:
    """Whether the VM's volumes are in use, or about to be, from its intent and what Harrow last observed.

    KubeVirt shows a VM as Stopped only when it has no VirtualMachineInstance, i.e. no virt-launcher pod
    mounts its PVCs; in every other state (Provisioning with an importer writing the volume, Starting,
    Running, Paused, Migrating, Stopping while the pod goes, the error states) a pod may hold them, so a
    Stop just accepted still counts as attached until the pod is gone. A node in the status means an
    instance is placed. The other way round, a Stopped VM whose run strategy is ALWAYS (a Start just
    accepted, before the cluster shows it) is about to mount them: an export accepted then would stay
    Exporting once the pod starts.
    """
    return vm.state != "STOPPED" or bool(vm.status.get("node")) or vm.spec.get("run_strategy") == "ALWAYS"


def _claim(vm: VirtualMachineRow, disk: Mapping[str, Any]) -> str:
    if "existing_claim" in disk:
        return str(disk["existing_claim"].get("claim_name", ""))
    return disk_claim_name(vm.name.rsplit("/", 1)[1], str(disk["name"]))


def _judge(
    vm: VirtualMachineRow,
    disk: Mapping[str, Any],
    action: str,
    profiles: storage_checks.Profiles,
    *,
    attached: bool,
) -> Obj:
    """One disk's volume as a BackupVolume (proto JSON), or FAILED_PRECONDITION naming disk, class and driver.

    A disk on an existing PVC is not judged (Harrow does not observe PVCs, so its class is unknown): the
    cluster decides. An export of one while the VM runs is still refused, since that rule needs no driver.
    """
    name = str(disk["name"])
    claim = _claim(vm, disk)
    if "existing_claim" in disk:
        if action == "export_to_image" and attached:
            raise FailedPrecondition(
                f'disk "{name}": volume {claim} is attached: CDI cannot export an attached volume (it would stay '
                "Exporting; seed 003, Limitations); stop the VM first",
                reason="VOLUME_ATTACHED",
                metadata={"disk": name, "volume": claim},
            )
        return {"disk": name, "claim_name": claim}
    facts, default = profiles
    source = disk.get("image") or disk.get("new_volume") or {}
    storage_class = str(source.get("storage_class") or default)
    profile = facts.get(storage_class)
    if profile is None:
        raise FailedPrecondition(
            f'disk "{name}": StorageClass "{storage_class}" has not been observed on the cluster, so what its '
            "driver can do is not known; retry once the cluster's storage profiles are listed",
            reason="STORAGE_CLASS_NOT_OBSERVED",
            metadata={"disk": name, "storage_class": storage_class},
        )
    driver = profile.driver.driver
    # Seed 003 (Limitations) and Harvester's export action: only an export through CDI (every class but
    # Longhorn v1, whose backing-image export reads a live volume) needs the volume unattached.
    through_cdi = driver != storage_capabilities.LONGHORN_V1
    try:
        storage_volumes.check_volume_operation(
            action, claim, profile.provisioner, profile.parameters, attached=attached and through_cdi
        )
    except FailedPrecondition as refused:
        raise FailedPrecondition(
            f'disk "{name}" (StorageClass "{storage_class}"): {refused.message}',
            reason=refused.reason,
            metadata={**refused.metadata, "disk": name, "storage_class": storage_class, "driver": driver},
        ) from None
    return {"disk": name, "storage_class": storage_class, "driver": driver, "claim_name": claim}


def _only_claims_on_harvester(vm: VirtualMachineRow, volumes: list[Obj]) -> None:
    """Refuse a Harvester backup that would hold no copy of a disk, before anything is written.

    Harvester's VirtualMachineBackup copies only the VM's persistentVolumeClaim volumes
    (pkg/backup/common/operator.go, volumeToPVCMappings); the dataVolume volumes Harrow's image and
    new_volume disks become are left out, and restoring such a backup would import the image again.
    """
    by_name = {str(d.get("name")): d for d in vm.spec.get("disks", [])}
    for volume in volumes:
        if "existing_claim" in by_name[volume["disk"]]:
            continue
        raise FailedPrecondition(
            f'disk "{volume["disk"]}" (StorageClass "{volume["storage_class"]}") is a CDI DataVolume: Harvester\'s '
            "VirtualMachineBackup copies only persistentVolumeClaim volumes, so the backup would hold no copy of it; "
            "on Harvester only disks on an existing PVC (existing_claim) can be snapshotted or backed up",
            reason="HARVESTER_SKIPS_DATA_VOLUME",
            metadata={k: str(volume[k]) for k in ("disk", "storage_class", "driver")},
        )


async def check_no_export_under_way(session: AsyncSession, vm: VirtualMachineRow) -> None:
    """Refuse to start a VM while one of its disks is exported through CDI (the counterpart of VOLUME_ATTACHED).

    The VM's pod would mount the volume under the export, and CDI would leave the image Exporting forever
    (seed 003, Limitations); a Longhorn v1 backing-image export reads a live volume, so it does not block.
    """
    exporting = await session.scalars(
        select(VmImageRow).where(
            VmImageRow.vm_uid == vm.uid, VmImageRow.state == "EXPORTING", VmImageRow.delete_time.is_(None)
        )
    )
    for image in exporting:
        if (image.status.get("volume") or {}).get("driver") == storage_capabilities.LONGHORN_V1:
            continue
        raise FailedPrecondition(
            f'virtual machine {vm.name}: disk "{image.disk}" is being exported to {image.name}; starting the VM '
            "would attach the volume under the export (CDI would leave it Exporting); wait for the image or delete it",
            reason="EXPORT_IN_PROGRESS",
            metadata={"resource": vm.name, "image": image.name, "disk": image.disk},
        )


def _disk_of(vm: VirtualMachineRow, disk: str, field: str) -> Mapping[str, Any]:
    disks: list[Obj] = vm.spec.get("disks", [])
    found = next((d for d in disks if d.get("name") == disk), None)
    if found is None:
        names = ", ".join(str(d.get("name")) for d in disks) or "none"
        raise InvalidArgument.for_field(field, f'virtual machine {vm.name} has no disk "{disk}" (its disks: {names})')
    if not any(key in found for key in ("image", "new_volume", "existing_claim")):
        raise InvalidArgument.for_field(field, f'disk "{disk}" is not a volume')
    return found


# --- shared request handling ----------------------------------------------------------------------


async def _cluster(session: AsyncSession, cluster: str) -> ClusterRow:
    query = select(ClusterRow).where(ClusterRow.name == f"clusters/{cluster}", ClusterRow.purged.is_(False))
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise intent.cluster_not_found(cluster)
    return row


async def _source_vm(session: AsyncSession, name: str) -> VirtualMachineRow:
    """The VM to copy, locked: a concurrent update or Start (which lock it too) then cannot change its disks or
    run strategy between the judgement of its volumes and the commit of the row recording them."""
    vm = await resources.get_live(session, VirtualMachineRow, name, lock=True)
    if vm is None:
        raise NotFound(
            f"virtual machine {name} does not exist", reason="VIRTUAL_MACHINE_NOT_FOUND", metadata={"resource": name}
        )
    if vm.delete_time is not None:
        raise FailedPrecondition(
            f"virtual machine {name} is being deleted", reason="DELETING", metadata={"resource": name}
        )
    return vm


def _needs_harvester(cluster: ClusterRow, what: str, reason: str) -> None:
    if cluster.flavor != "HARVESTER":
        raise FailedPrecondition(
            f"{cluster.name} is a plain KubeVirt cluster (flavor {cluster.flavor}): {what} needs Harvester",
            reason=reason,
            metadata={"cluster": cluster.name, "flavor": cluster.flavor},
        )


def _vm_field(value: str, field: str, parent: NamespaceName) -> str:
    if not value:
        raise InvalidArgument.for_field(field, "required; the VM to copy, in the same namespace")
    vm = parse_vm_name(value, field)
    if vm.parent != parent:
        raise InvalidArgument.for_field(field, f"must be a VM in {parent} (got {value})")
    return str(vm)


def _metadata_violations(message: Any, field: str) -> list[FieldViolation]:
    return label_violations(dict(message.labels), f"{field}.labels") + annotation_violations(
        dict(message.annotations), f"{field}.annotations"
    )


def _reference(what: tuple[str, str, str, str], namespace: str, object_id: str) -> Obj:
    """The cluster object a request becomes, as status.cluster_object (proto JSON names)."""
    group, version, _, kind = what
    return {"api_version": f"{group}/{version}", "kind": kind, "namespace": namespace, "name": object_id}


def _preview(message: Message, source: Any, spec: Obj, status: Obj) -> operations_pb2.Operation:
    """validate_only's answer: the resource as a Create would write it, less what only the write makes (uid, etag,
    times); `message` holds the name and first state, `source` is the request's resource (labels, annotations)."""
    preview: Any = message
    preview.labels.update(source.labels)
    preview.annotations.update(source.annotations)
    json_format.ParseDict(spec, preview.spec)
    json_format.ParseDict(status, preview.status)
    return intent.done_operation(message)


def _new_row(
    model: type[Row], name: str, parent: NamespaceName, vm: VirtualMachineRow, source: Any, spec: Obj, at: datetime
) -> Row:
    """A Create's row; the caller sets state and the status as judged. `source` is the request's resource."""
    return model(
        name=name,
        cluster=parent.cluster,
        namespace=parent.namespace,
        vm=vm.name.rsplit("/", 1)[1],
        vm_uid=vm.uid,
        spec=spec,
        labels=dict(source.labels),
        annotations=dict(source.annotations),
        **common.first_generation(uuid.uuid4(), at),
    )


@dataclass(frozen=True)
class _Family(Generic[Row]):
    """What Get, List and Delete need of one of the two resource families."""

    model: type[Row]
    kind: intent.Kind[Row]
    noun: str
    reason: str  # the prefix of its NOT_FOUND / EXISTS error reasons
    parse: Callable[[str], tuple[NamespaceName, str]]
    filters: Mapping[str, FieldKind]
    columns: Mapping[str, Column]

    def not_found(self, name: str) -> NotFound:
        return NotFound(
            f"{self.noun} {name} does not exist", reason=f"{self.reason}_NOT_FOUND", metadata={"resource": name}
        )

    def exists(self, name: str) -> AlreadyExists:
        return AlreadyExists(
            f"{self.noun} {name} already exists", reason=f"{self.reason}_EXISTS", metadata={"resource": name}
        )


_COMMON_FILTERS = {
    "name": FieldKind.string(),
    "labels": FieldKind.label_map(),
    "create_time": FieldKind.timestamp(),
}
BACKUPS = _Family[VmBackupRow](
    VmBackupRow,
    BACKUP_KIND,
    "virtual machine backup",
    "VIRTUAL_MACHINE_BACKUP",
    parse_backup_name,
    {
        **_COMMON_FILTERS,
        "state": FieldKind.enum(tuple(pb.VirtualMachineBackup.State.keys())),
        "spec.type": FieldKind.enum(tuple(pb.VirtualMachineBackupSpec.Type.keys())),
        "spec.virtual_machine": FieldKind.string(),
    },
    {
        "name": Column(VmBackupRow.name),
        "labels": Column(VmBackupRow.labels),
        "create_time": Column(VmBackupRow.create_time),
        "state": Column(VmBackupRow.state),
        "spec.type": Column(VmBackupRow.spec, json_path=("type",)),
        "spec.virtual_machine": Column(VmBackupRow.spec, json_path=("virtual_machine",)),
    },
)
IMAGES = _Family[VmImageRow](
    VmImageRow,
    IMAGE_KIND,
    "virtual machine image",
    "VIRTUAL_MACHINE_IMAGE",
    parse_image_name,
    {
        **_COMMON_FILTERS,
        "state": FieldKind.enum(tuple(pb.VirtualMachineImage.State.keys())),
        "spec.source.virtual_machine": FieldKind.string(),
        "spec.source.disk": FieldKind.string(),
    },
    {
        "name": Column(VmImageRow.name),
        "labels": Column(VmImageRow.labels),
        "create_time": Column(VmImageRow.create_time),
        "state": Column(VmImageRow.state),
        "spec.source.virtual_machine": Column(VmImageRow.spec, json_path=("source", "virtual_machine")),
        "spec.source.disk": Column(VmImageRow.spec, json_path=("source", "disk")),
    },
)


class BackupService:
    def __init__(self, db: Database):
        self._db = db

    # --- backups ----------------------------------------------------------------------------------

    async def get_backup(self, request: pb.GetVirtualMachineBackupRequest) -> pb.VirtualMachineBackup:
        return backup_to_proto(await self._get(BACKUPS, request.name))

    async def list_backups(self, request: pb.ListVirtualMachineBackupsRequest) -> pb.ListVirtualMachineBackupsResponse:
        rows, token = await self._list(BACKUPS, request.parent, request.filter, request.page_size, request.page_token)
        return pb.ListVirtualMachineBackupsResponse(
            virtual_machine_backups=[backup_to_proto(row) for row in rows], next_page_token=token
        )

    async def create_backup(self, request: pb.CreateVirtualMachineBackupRequest) -> operations_pb2.Operation:
        parent = parse_namespace_name(request.parent)
        check_id(request.virtual_machine_backup_id, "virtual_machine_backup_id")
        name = f"{parent}/virtualMachineBackups/{request.virtual_machine_backup_id}"
        backup = request.virtual_machine_backup
        vm_name = _vm_field(backup.spec.virtual_machine, "virtual_machine_backup.spec.virtual_machine", parent)
        if backup.spec.type == pb.VirtualMachineBackupSpec.TYPE_UNSPECIFIED:
            raise InvalidArgument.for_field("virtual_machine_backup.spec.type", "required: SNAPSHOT or BACKUP")
        violations = _metadata_violations(backup, "virtual_machine_backup")
        if violations:
            raise InvalidArgument.of(violations)
        backup_type = pb.VirtualMachineBackupSpec.Type.Name(backup.spec.type)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            cluster = await _cluster(session, parent.cluster)
            if await resources.get_live(session, VmBackupRow, name) is not None:
                raise BACKUPS.exists(name)
            vm = await _source_vm(session, vm_name)
            if backup_type == "BACKUP":
                _needs_harvester(cluster, "a backup (to Harvester's backup target)", "BACKUP_NEEDS_HARVESTER")
            profiles = await storage_checks.profiles_of(session, parent.cluster)
            action = backup_type.lower()  # the capability table's column (domain/storage_capabilities.ACTIONS)
            # Whether a volume is attached matters only to an export: a snapshot or backup is taken online.
            volumes = [_judge(vm, d, action, profiles, attached=False) for d in vm.spec.get("disks", [])]
            harvester = cluster.flavor == "HARVESTER"
            if harvester:
                _only_claims_on_harvester(vm, volumes)
            reference = _reference(backup_kind(harvester), parent.namespace, request.virtual_machine_backup_id)
            status = {"volumes": volumes, "cluster_object": reference}
            spec = json_format.MessageToDict(backup.spec, preserving_proto_field_name=True)
            if request.validate_only:
                creating = pb.VirtualMachineBackup(name=name, state=pb.VirtualMachineBackup.CREATING)
                return _preview(creating, backup, spec, status)
            row = _new_row(VmBackupRow, name, parent, vm, backup, spec, at)
            row.state, row.status = "CREATING", status
            return await _insert(session, BACKUPS, row, request.request_id, at)

        return await intent.idempotent(
            self._db,
            "CreateVirtualMachineBackup",
            request,
            operations_pb2.Operation,
            work,
            dry_run=request.validate_only,
        )

    async def delete_backup(self, request: pb.DeleteVirtualMachineBackupRequest) -> operations_pb2.Operation:
        return await self._delete(BACKUPS, "DeleteVirtualMachineBackup", request)

    # --- images -----------------------------------------------------------------------------------

    async def get_image(self, request: pb.GetVirtualMachineImageRequest) -> pb.VirtualMachineImage:
        return image_to_proto(await self._get(IMAGES, request.name))

    async def list_images(self, request: pb.ListVirtualMachineImagesRequest) -> pb.ListVirtualMachineImagesResponse:
        rows, token = await self._list(IMAGES, request.parent, request.filter, request.page_size, request.page_token)
        return pb.ListVirtualMachineImagesResponse(
            virtual_machine_images=[image_to_proto(row) for row in rows], next_page_token=token
        )

    async def create_image(self, request: pb.CreateVirtualMachineImageRequest) -> operations_pb2.Operation:
        parent = parse_namespace_name(request.parent)
        check_id(request.virtual_machine_image_id, "virtual_machine_image_id")
        name = f"{parent}/images/{request.virtual_machine_image_id}"
        image = request.virtual_machine_image
        field = "virtual_machine_image.spec.source"
        vm_name = _vm_field(image.spec.source.virtual_machine, f"{field}.virtual_machine", parent)
        if not image.spec.source.disk:
            raise InvalidArgument.for_field(f"{field}.disk", "required: the VM disk whose volume to export")
        violations = _metadata_violations(image, "virtual_machine_image")
        if len(image.spec.display_name) > 253:
            violations.append(FieldViolation("virtual_machine_image.spec.display_name", "at most 253 characters"))
        if violations:
            raise InvalidArgument.of(violations)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            cluster = await _cluster(session, parent.cluster)
            if await resources.get_live(session, VmImageRow, name) is not None:
                raise IMAGES.exists(name)
            vm = await _source_vm(session, vm_name)
            disk = _disk_of(vm, image.spec.source.disk, f"{field}.disk")
            _needs_harvester(
                cluster, "exporting a volume to an image (a Harvester VirtualMachineImage)", "EXPORT_NEEDS_HARVESTER"
            )
            profiles = await storage_checks.profiles_of(session, parent.cluster)
            volume = _judge(vm, disk, "export_to_image", profiles, attached=_volume_attached(vm))
            reference = _reference(HARVESTER_IMAGE, parent.namespace, request.virtual_machine_image_id)
            status = {"volume": volume, "cluster_object": reference}
            spec = json_format.MessageToDict(image.spec, preserving_proto_field_name=True)
            if request.validate_only:
                exporting = pb.VirtualMachineImage(name=name, state=pb.VirtualMachineImage.EXPORTING)
                return _preview(exporting, image, spec, status)
            row = _new_row(VmImageRow, name, parent, vm, image, spec, at)
            row.disk, row.state, row.status = str(disk["name"]), "EXPORTING", status
            return await _insert(session, IMAGES, row, request.request_id, at)

        return await intent.idempotent(
            self._db,
            "CreateVirtualMachineImage",
            request,
            operations_pb2.Operation,
            work,
            dry_run=request.validate_only,
        )

    async def delete_image(self, request: pb.DeleteVirtualMachineImageRequest) -> operations_pb2.Operation:
        return await self._delete(IMAGES, "DeleteVirtualMachineImage", request)

    # --- shared -----------------------------------------------------------------------------------

    async def _get(self, family: _Family[Row], name: str) -> Row:
        family.parse(name)
        async with self._db.transaction() as session:
            row = await resources.get_live(session, family.model, name)
        if row is None:
            raise family.not_found(name)
        return row

    async def _list(
        self, family: _Family[Row], parent_name: str, filter_text: str, page_size: int, token: str
    ) -> tuple[Sequence[Row], str]:
        parent = parse_namespace_name(parent_name)
        size = page_token.page_size(page_size)
        digest = page_token.query_digest(str(parent), filter_text)
        after = page_token.decode(token, digest)
        if after is not None:
            after = [datetime.fromisoformat(after[0]), after[1]]
        model = family.model
        where = [model.cluster == parent.cluster, model.namespace == parent.namespace]
        expr = parse_filter(filter_text)
        if expr is not None:
            check_fields(expr, family.filters)
            where.append(to_sql(expr, family.columns))
        async with self._db.transaction() as session:
            rows = await resources.page(
                session, model, where=where, order_column="create_time", descending=True, after=after, limit=size + 1
            )
        next_token = ""
        if len(rows) > size:
            last = rows[size - 1]
            next_token = page_token.encode([last.create_time.isoformat(), last.name], digest)
        return rows[:size], next_token

    async def _delete(self, family: _Family[Row], method: str, request: Any) -> operations_pb2.Operation:
        family.parse(request.name)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            row = await resources.get_live(session, family.model, request.name, lock=True)
            if row is None:
                if not request.allow_missing:
                    raise family.not_found(request.name)
                return intent.done_operation(empty_pb2.Empty())
            common.check_etag(request.etag, row.etag, request.name)
            if request.validate_only:
                return intent.done_operation(empty_pb2.Empty())
            if row.delete_time is None:
                row.delete_time, row.state = at, "DELETING"
                await family.kind.bump(session, row, "MODIFIED", at)
            return await family.kind.operation(session, row, "delete", request.request_id, at)

        return await intent.idempotent(
            self._db, method, request, operations_pb2.Operation, work, dry_run=request.validate_only
        )


async def _insert(
    session: AsyncSession, family: _Family[Row], row: Row, request_id: str, at: datetime
) -> operations_pb2.Operation:
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as error:
        raise family.exists(row.name) from error
    await family.kind.record(session, row, "ADDED", at)
    return await family.kind.operation(session, row, "create", request_id, at)
