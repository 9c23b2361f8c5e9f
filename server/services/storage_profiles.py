"""Storage profiles and StorageClasses (issue 7): observed from each cluster, overridable, read before use.

Rows are created and purged by the reconciler (one per StorageClass, as CDI
keeps one StorageProfile per class); the API only reads them and writes
`spec` overrides. An override is judged here against CDI's schema limits and,
on Harvester, against what its StorageClass annotations can carry, so a bad
one fails at once naming the field instead of being reverted on the cluster.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from google.longrunning import operations_pb2
from google.protobuf import field_mask_pb2, json_format
from harrow.v1 import storage_pb2 as pb
from harrow.v1 import virtual_machine_pb2 as vm_pb
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain import page_token, storage_capabilities, storage_profiles
from server.domain.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from server.domain.labels import annotation_violations, label_violations
from server.domain.names import parse_cluster_name
from server.services import common, intent
from storage.db import Database
from storage.models import ClusterRow, StorageProfileRow
from storage.repos import resources

KIND = "StorageProfile"
_WRITABLE = ("labels", "annotations", "spec")
_CLASS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

# Proto enum names ↔ the CDI / Kubernetes words.
ACCESS_MODES = {
    "READ_WRITE_ONCE": "ReadWriteOnce",
    "READ_ONLY_MANY": "ReadOnlyMany",
    "READ_WRITE_MANY": "ReadWriteMany",
    "READ_WRITE_ONCE_POD": "ReadWriteOncePod",
}
VOLUME_MODES = {"FILESYSTEM": "Filesystem", "BLOCK": "Block"}
CLONE_STRATEGIES = {"COPY": "copy", "SNAPSHOT": "snapshot", "CSI_CLONE": "csi-clone"}
SOURCE_FORMATS = {"PVC": "pvc", "VOLUME_SNAPSHOT": "snapshot"}


def _reverse(table: dict[str, str]) -> dict[str, str]:
    return {kube: name for name, kube in table.items()}


ACCESS_NAMES, VOLUME_NAMES = _reverse(ACCESS_MODES), _reverse(VOLUME_MODES)
CLONE_NAMES, FORMAT_NAMES = _reverse(CLONE_STRATEGIES), _reverse(SOURCE_FORMATS)


def parse_name(value: str, collection: str, field: str = "name") -> tuple[str, str]:
    """`clusters/{c}/{collection}/{storage class}`; class names are DNS-1123 subdomains (dots allowed)."""
    parts = value.split("/")
    if len(parts) != 4 or parts[0] != "clusters" or parts[2] != collection:
        raise InvalidArgument.for_field(field, f'"{value}" does not match clusters/{{cluster}}/{collection}/{{name}}')
    cluster = parse_cluster_name("/".join(parts[:2]), field)
    if not _CLASS_NAME.match(parts[3]):
        raise InvalidArgument.for_field(field, f'"{parts[3]}" is not a StorageClass name (a DNS-1123 subdomain)')
    return cluster, parts[3]


# --- proto ↔ CDI ----------------------------------------------------------------------------------


def sets_to_cdi(sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "accessModes": [ACCESS_MODES.get(m, m) for m in s.get("access_modes", [])],
            "volumeMode": VOLUME_MODES.get(s.get("volume_mode", ""), ""),
        }
        for s in sets
    ]


def sets_from_cdi(sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for s in sets:
        claim_set: dict[str, Any] = {
            "access_modes": [ACCESS_NAMES[m] for m in s.get("accessModes", []) if m in ACCESS_NAMES]
        }
        if s.get("volumeMode") in VOLUME_NAMES:
            claim_set["volume_mode"] = VOLUME_NAMES[s["volumeMode"]]
        out.append(claim_set)
    return out


def spec_to_cdi(spec: dict[str, Any]) -> dict[str, Any]:
    """A row's spec (proto JSON, original names) as StorageProfile.spec, plus `filesystemOverhead`."""
    out: dict[str, Any] = {}
    if spec.get("claim_property_sets"):
        out["claimPropertySets"] = sets_to_cdi(spec["claim_property_sets"])
    if spec.get("clone_strategy") in CLONE_STRATEGIES:
        out["cloneStrategy"] = CLONE_STRATEGIES[spec["clone_strategy"]]
    if spec.get("data_import_cron_source_format") in SOURCE_FORMATS:
        out["dataImportCronSourceFormat"] = SOURCE_FORMATS[spec["data_import_cron_source_format"]]
    if spec.get("snapshot_class"):
        out["snapshotClass"] = spec["snapshot_class"]
    if spec.get("filesystem_overhead"):
        out["filesystemOverhead"] = spec["filesystem_overhead"]
    return out


def capability_proto(row: storage_capabilities.DriverCapabilities) -> pb.StorageCapability:
    message = pb.StorageCapability(
        driver=row.driver,
        display_name=row.display_name,
        provisioners=list(row.provisioners),
        default_claim_property_sets_source=row.default_sets_source,
    )
    for action in storage_capabilities.ACTIONS:
        cell = row.cell(action)
        getattr(message, action).CopyFrom(pb.Capability(supported=cell.supported, source=cell.source, note=cell.note))
    for mode, volume in row.default_sets:
        message.default_claim_property_sets.add(
            access_modes=[vm_pb.AccessMode.Value(ACCESS_NAMES[mode])],
            volume_mode=vm_pb.VolumeMode.Value(VOLUME_NAMES[volume]),
        )
    return message


def _class_of(row: StorageProfileRow) -> dict[str, Any]:
    found: dict[str, Any] = row.observed.get("storageClass") or {}
    return found


def to_proto(row: StorageProfileRow) -> pb.StorageProfile:
    profile = pb.StorageProfile(state=pb.StorageProfile.State.Value(row.state))
    common.fill_resource_fields(profile, row)
    json_format.ParseDict(row.spec, profile.spec)
    json_format.ParseDict(row.status, profile.status, ignore_unknown_fields=True)
    sc = _class_of(row)
    driver = storage_capabilities.for_class(str(sc.get("provisioner", "")), sc.get("parameters") or {})
    profile.status.capabilities.CopyFrom(capability_proto(driver))
    return profile


def class_to_proto(row: StorageProfileRow) -> pb.StorageClass:
    sc = _class_of(row)
    message = pb.StorageClass(
        name=f"clusters/{row.cluster}/storageClasses/{row.storage_class}",
        provisioner=str(sc.get("provisioner", "")),
        parameters=sc.get("parameters") or {},
        default_class=bool(sc.get("default")),
        reclaim_policy=str(sc.get("reclaimPolicy", "")),
        volume_binding_mode=str(sc.get("volumeBindingMode", "")),
        allow_volume_expansion=bool(sc.get("allowVolumeExpansion")),
        annotations=sc.get("annotations") or {},
    )
    if sc.get("creationTimestamp"):
        message.create_time.FromJsonString(str(sc["creationTimestamp"]))
    message.profile.CopyFrom(to_proto(row))
    message.capabilities.CopyFrom(message.profile.status.capabilities)
    return message


PROFILE_KIND = intent.Kind[StorageProfileRow](
    name=KIND, to_proto=to_proto, parent_of=lambda row: f"clusters/{row.cluster}"
)


class StorageService:
    def __init__(self, db: Database):
        self._db = db

    async def get_profile(self, request: pb.GetStorageProfileRequest) -> pb.StorageProfile:
        parse_name(request.name, "storageProfiles")
        async with self._db.transaction() as session:
            return to_proto(await _profile(session, request.name))

    async def list_profiles(self, request: pb.ListStorageProfilesRequest) -> pb.ListStorageProfilesResponse:
        rows, token = await self._page(request.parent, request.page_size, request.page_token)
        return pb.ListStorageProfilesResponse(storage_profiles=[to_proto(r) for r in rows], next_page_token=token)

    async def get_class(self, request: pb.GetStorageClassRequest) -> pb.StorageClass:
        cluster, name = parse_name(request.name, "storageClasses")
        async with self._db.transaction() as session:
            row = await resources.get_live(session, StorageProfileRow, f"clusters/{cluster}/storageProfiles/{name}")
        if row is None:
            raise NotFound(
                f"StorageClass {request.name} does not exist (or the reconciler has not seen it yet)",
                reason="STORAGE_CLASS_NOT_FOUND",
                metadata={"resource": request.name},
            )
        return class_to_proto(row)

    async def list_classes(self, request: pb.ListStorageClassesRequest) -> pb.ListStorageClassesResponse:
        rows, token = await self._page(request.parent, request.page_size, request.page_token)
        return pb.ListStorageClassesResponse(storage_classes=[class_to_proto(r) for r in rows], next_page_token=token)

    async def list_capabilities(self, request: pb.ListStorageCapabilitiesRequest) -> pb.ListStorageCapabilitiesResponse:
        if request.provisioner:
            rows = [storage_capabilities.for_class(request.provisioner, dict(request.parameters))]
        elif request.parameters:
            raise InvalidArgument.for_field("parameters", "only with provisioner")
        else:
            rows = list(storage_capabilities.TABLE)
        return pb.ListStorageCapabilitiesResponse(capabilities=[capability_proto(row) for row in rows])

    async def update_profile(self, request: pb.UpdateStorageProfileRequest) -> operations_pb2.Operation:
        cluster, _ = parse_name(request.storage_profile.name, "storageProfiles", "storage_profile.name")
        name = request.storage_profile.name
        paths = common.update_paths(request.update_mask.paths, request.storage_profile, _WRITABLE)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            row = await _profile(session, name, lock=True)
            common.check_etag(request.storage_profile.etag, row.etag, name, "storage_profile.etag")
            merged = to_proto(row)
            field_mask_pb2.FieldMask(paths=paths).MergeMessage(
                request.storage_profile, merged, replace_message_field=True, replace_repeated_field=True
            )
            await _check(session, cluster, row, merged)
            if request.validate_only:
                return intent.done_operation(merged)
            await PROFILE_KIND.set_intent(session, row, merged, at)
            return await PROFILE_KIND.operation(session, row, "update", request.request_id, at)

        return await intent.idempotent(
            self._db, "UpdateStorageProfile", request, operations_pb2.Operation, work, dry_run=request.validate_only
        )

    async def _page(self, parent: str, size_requested: int, token: str) -> tuple[list[StorageProfileRow], str]:
        cluster = parse_cluster_name(parent, "parent")
        size = page_token.page_size(size_requested)
        digest = page_token.query_digest(parent)
        after = page_token.decode(token, digest)
        async with self._db.transaction() as session:
            await intent.require_cluster(session, cluster)
            rows = await resources.page(
                session,
                StorageProfileRow,
                where=[StorageProfileRow.cluster == cluster],
                order_column="name",
                descending=False,
                after=after,
                limit=size + 1,
            )
        next_token = page_token.encode([rows[size - 1].name], digest) if len(rows) > size else ""
        return list(rows[:size]), next_token


async def _profile(session: AsyncSession, name: str, *, lock: bool = False) -> StorageProfileRow:
    row = await resources.get_live(session, StorageProfileRow, name, lock=lock)
    if row is None:
        raise NotFound(
            f"storage profile {name} does not exist (profiles appear once the reconciler has seen their "
            "StorageClass on the cluster)",
            reason="STORAGE_PROFILE_NOT_FOUND",
            metadata={"resource": name},
        )
    return row


async def _check(session: AsyncSession, cluster: str, row: StorageProfileRow, merged: pb.StorageProfile) -> None:
    violations = label_violations(dict(merged.labels), "storage_profile.labels") + annotation_violations(
        dict(merged.annotations), "storage_profile.annotations"
    )
    spec = spec_to_cdi(json_format.MessageToDict(merged.spec, preserving_proto_field_name=True))
    for index, claim_set in enumerate(merged.spec.claim_property_sets):
        for position, mode in enumerate(claim_set.access_modes):
            if mode == vm_pb.ACCESS_MODE_UNSPECIFIED:
                spec["claimPropertySets"][index]["accessModes"][position] = ""
                violations.append(
                    FieldViolation(
                        f"storage_profile.spec.claim_property_sets[{index}].access_modes[{position}]", "must be set"
                    )
                )
    flavor = (await session.execute(select(ClusterRow.flavor).where(ClusterRow.name == f"clusters/{cluster}"))).scalar()
    sc = _class_of(row)
    harvester = flavor == "HARVESTER" and storage_profiles.harvester_owns(
        str(sc.get("provisioner", "")), sc.get("parameters") or {}
    )
    violations += storage_profiles.spec_violations(spec, "storage_profile.spec", harvester=harvester)
    if violations:
        raise InvalidArgument.of(violations)
    if row.delete_time is not None:
        raise FailedPrecondition(f"{row.name} is being deleted", reason="DELETING", metadata={"resource": row.name})
