"""Live migration (issue 6): the cluster's migration configuration, migration policies, explain, migrate.

Intent is written the way every family writes it (services/intent.py). What is
new here is the explaining: `:resolve` runs KubeVirt's own policy matching
(domain/migration_policy.py) and configuration merge (domain/migration_config.py)
over Harrow's intent, so users see which policy a VM gets, every effective value
with where it came from, and the completion timeout before a migration runs; a
policy's status lists the VMs it wins for, computed when read so it can never be
stale. `:migrate` refuses at once what KubeVirt's admitter would refuse later
(domain/live_migration.py), and allows one unfinished migration per VM, as the
admitter does; the VM row is locked while checking so two concurrent calls
cannot both pass.

A VM's VMI carries the VM's labels plus Harrow's own (reconcile/translate.py),
so those are what policies are matched against. Its namespace's labels are
the ones the reconciler last observed on the cluster (reconcile/namespaces.py
keeps them in the cluster row's status), the same ones KubeVirt matches; until
they are observed, only `kubernetes.io/metadata.name`, which every namespace
carries.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from google.longrunning import operations_pb2
from google.protobuf import empty_pb2, json_format
from google.protobuf.message import Message
from harrow.v1 import migration_pb2 as pb
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain import live_migration, migration_config, migration_policy, page_token
from server.domain.errors import AlreadyExists, FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from server.domain.labels import annotation_violations, label_violations
from server.domain.names import check_id, parse_cluster_name, parse_vm_name
from server.domain.quantity import parse_quantity, quantity_bytes
from server.reconcile.namespaces import STATUS_KEY
from server.reconcile.translate import MANAGED_BY, UID_LABEL
from server.services import common, intent
from storage.db import Database
from storage.models import (
    ClusterRow,
    MigrationConfigRow,
    MigrationPolicyRow,
    MigrationRow,
    OperationRow,
    ResourceColumns,
    VirtualMachineRow,
)
from storage.repos import resources

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# On migrations an evacuation started: the operation that started them.
EVACUATION_ANNOTATION = "harrow.io/evacuation"
GOVERNED_LISTED = 100
FINAL_STATES = ("SUCCEEDED", "FAILED")
_WRITABLE = ("labels", "annotations", "spec")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


# --- names ----------------------------------------------------------------------------------------


def _split(value: str, field: str, collections: tuple[str, ...], pattern: str) -> list[str]:
    parts = value.split("/")
    if not value or len(parts) != 2 * len(collections) or any(parts[2 * i] != c for i, c in enumerate(collections)):
        raise InvalidArgument.for_field(field, f'"{value}" does not match {pattern}')
    return parts[1::2]


def parse_config_name(value: str, field: str = "name") -> str:
    parts = value.split("/")
    if len(parts) != 3 or parts[2] != "migrationConfig":
        raise InvalidArgument.for_field(field, f'"{value}" does not match clusters/{{cluster}}/migrationConfig')
    return parse_cluster_name("/".join(parts[:2]), field)


def parse_policy_name(value: str, field: str = "name") -> tuple[str, str]:
    cluster, policy_id = _split(
        value, field, ("clusters", "migrationPolicies"), "clusters/{cluster}/migrationPolicies/{migration_policy}"
    )
    parse_cluster_name(f"clusters/{cluster}", field)
    check_id(policy_id, field)
    return cluster, policy_id


def parse_node_name(value: str, field: str = "name") -> tuple[str, str]:
    cluster, node = _split(value, field, ("clusters", "nodes"), "clusters/{cluster}/nodes/{node}")
    parse_cluster_name(f"clusters/{cluster}", field)
    if len(node) > 253 or not _SUBDOMAIN.fullmatch(node):
        raise InvalidArgument.for_field(field, f'node "{node}" is not a node name (a DNS subdomain)')
    return cluster, node


def parse_migration_name(value: str, field: str = "name") -> str:
    vm, _, migration_id = value.rpartition("/migrations/")
    parse_vm_name(vm, field)
    check_id(migration_id, field)
    return vm


# --- protos ---------------------------------------------------------------------------------------


def _base(message: Message, row: ResourceColumns) -> None:
    common.fill_resource_fields(message, row)
    resource: Any = message
    json_format.ParseDict(row.spec, resource.spec)


def policy_to_proto(row: MigrationPolicyRow) -> pb.MigrationPolicy:
    policy = pb.MigrationPolicy(state=pb.MigrationPolicy.State.Value(row.state))
    _base(policy, row)
    return policy


def migration_to_proto(row: MigrationRow) -> pb.Migration:
    migration = pb.Migration(state=pb.Migration.State.Value(row.state))
    _base(migration, row)
    json_format.ParseDict(row.status, migration.status)
    return migration


def config_to_proto(row: MigrationConfigRow) -> pb.MigrationConfig:
    config = pb.MigrationConfig(state=pb.MigrationConfig.ACTIVE)
    _base(config, row)
    return config


POLICY_KIND = intent.Kind[MigrationPolicyRow](
    name="MigrationPolicy", to_proto=policy_to_proto, parent_of=lambda row: f"clusters/{row.cluster}"
)
CONFIG_KIND = intent.Kind[MigrationConfigRow](
    name="MigrationConfig", to_proto=config_to_proto, parent_of=lambda row: f"clusters/{row.cluster}"
)
MIGRATION_KIND = intent.Kind[MigrationRow](
    name="Migration",
    to_proto=migration_to_proto,
    parent_of=lambda row: f"clusters/{row.cluster}/namespaces/{row.namespace}/virtualMachines/{row.vm}",
)


def _set_values(settings: Message) -> dict[str, Any]:
    """The fields a MigrationSettings or MigrationPolicySpec sets, as Python values."""
    names = [f for f in migration_config.FIELDS if f in settings.DESCRIPTOR.fields_by_name]
    return {name: getattr(settings, name) for name in names if settings.HasField(name)}


def _stored_values(spec: Mapping[str, Any], message_type: type[Message]) -> dict[str, Any]:
    message = message_type()
    json_format.ParseDict(dict(spec), message)
    return _set_values(message)


def _effective_proto(effective: migration_config.Effective) -> tuple[pb.MigrationSettings, list[pb.SettingProvenance]]:
    settings = pb.MigrationSettings(**effective.settings.as_dict())
    provenance = [
        pb.SettingProvenance(field=p.field, source=pb.SettingProvenance.Source.Value(p.source), detail=p.detail)
        for p in effective.provenance
    ]
    return settings, provenance


# --- validation -----------------------------------------------------------------------------------


def _quantity_violation(value: str, field: str) -> list[FieldViolation]:
    try:
        parse_quantity(value)
    except ValueError as error:
        return [FieldViolation(field, str(error))]
    return []


def _settings_violations(settings: Message, field: str) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    values = _set_values(settings)
    for name in ("parallel_migrations_per_cluster", "parallel_outbound_migrations_per_node"):
        if name in values and values[name] < 1:
            out.append(FieldViolation(f"{field}.{name}", f"must be at least 1 (got {values[name]})"))
    for name in ("completion_timeout_per_gib", "progress_timeout"):
        if name in values and values[name] < 0:
            out.append(FieldViolation(f"{field}.{name}", f"must not be negative (got {values[name]})"))
    if "bandwidth_per_migration" in values:
        out += _quantity_violation(values["bandwidth_per_migration"], f"{field}.bandwidth_per_migration")
    network = values.get("network", "")
    if network and (len(network) > 253 or not _SUBDOMAIN.fullmatch(network)):
        out.append(FieldViolation(f"{field}.network", "must be a NetworkAttachmentDefinition name (a DNS subdomain)"))
    return out


def _metadata_violations(message: Any, field: str) -> list[FieldViolation]:
    return label_violations(dict(message.labels), f"{field}.labels") + annotation_violations(
        dict(message.annotations), f"{field}.annotations"
    )


def _policy_violations(policy: pb.MigrationPolicy, field: str) -> list[FieldViolation]:
    out = _metadata_violations(policy, field) + _settings_violations(policy.spec, f"{field}.spec")
    selectors = policy.spec.selectors
    out += label_violations(dict(selectors.namespace_selector), f"{field}.spec.selectors.namespace_selector")
    out += label_violations(
        dict(selectors.virtual_machine_instance_selector), f"{field}.spec.selectors.virtual_machine_instance_selector"
    )
    return out


def _update_paths(message: Message, mask: Sequence[str], type_name: str, leaf_default: bool) -> list[str]:
    """AIP-134: the mask's paths; `*` is everything writable; no mask is every field that is set
    (with `leaf_default`, every set field inside spec, so a partial spec changes only those)."""
    paths = list(mask)
    if not paths:
        top = [f.name for f, _ in message.ListFields() if f.name in _WRITABLE]
        if leaf_default and "spec" in top:
            spec = message.spec  # type: ignore[attr-defined]
            top = [p for p in top if p != "spec"] + [f"spec.{f.name}" for f, _ in spec.ListFields()]
        return top
    if "*" in paths:
        if len(paths) > 1:
            raise InvalidArgument.for_field("update_mask", '"*" cannot be combined with other paths')
        return list(_WRITABLE)
    for path in paths:
        head = path.split(".")[0]
        if head not in _WRITABLE:
            why = "is output only" if head in message.DESCRIPTOR.fields_by_name else f"is not a field of {type_name}"
            raise InvalidArgument.for_field("update_mask", f'"{path}" {why}; writable: labels, annotations, spec.*')
        try:
            _resolve_path(message, path)
        except KeyError:
            raise InvalidArgument.for_field("update_mask", f'"{path}" is not a field of {type_name}') from None
    return paths


def _resolve_path(message: Message, path: str) -> tuple[Message, Any]:
    head, _, rest = path.partition(".")
    field = message.DESCRIPTOR.fields_by_name[head]
    if not rest:
        return message, field
    if field.message_type is None or field.message_type.GetOptions().map_entry:
        raise KeyError(path)
    return _resolve_path(getattr(message, head), rest)


def _apply_mask(source: Message, destination: Message, paths: Sequence[str]) -> None:
    """Copy each path from source to destination; an unset optional field in the source clears it."""
    for path in paths:
        _, field = _resolve_path(destination, path)
        parent_path, _, leaf = path.rpartition(".")
        src: Any = source
        dst: Any = destination
        for part in filter(None, parent_path.split(".")):
            src, dst = getattr(src, part), getattr(dst, part)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            getattr(dst, leaf).clear()
            getattr(dst, leaf).update(getattr(src, leaf))
        elif field.message_type is not None:
            dst.ClearField(leaf)
            if src.HasField(leaf):
                getattr(dst, leaf).CopyFrom(getattr(src, leaf))
        elif field.has_presence and not src.HasField(leaf):
            dst.ClearField(leaf)
        else:
            setattr(dst, leaf, getattr(src, leaf))


# --- matching -------------------------------------------------------------------------------------


def vmi_labels(row: VirtualMachineRow) -> dict[str, str]:
    return {**row.labels, MANAGED_BY[0]: MANAGED_BY[1], UID_LABEL: str(row.uid)}


def namespace_labels(namespace: str, observed: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The namespace's labels as the cluster showed them; before they are observed, the one every namespace has."""
    labels = observed.get(namespace)
    return dict(labels) if labels is not None else {NAMESPACE_NAME_LABEL: namespace}


async def _observed_namespaces(session: AsyncSession, cluster: str) -> dict[str, dict[str, str]]:
    """{namespace: labels} of the cluster, as the reconciler last observed them (empty before it has)."""
    query = select(ClusterRow.status[STATUS_KEY]).where(
        ClusterRow.name == f"clusters/{cluster}", ClusterRow.purged.is_(False)
    )
    found = (await session.execute(query)).scalar_one_or_none()
    return found if isinstance(found, dict) else {}


def _as_policy(row: MigrationPolicyRow) -> migration_policy.Policy:
    selectors = row.spec.get("selectors") or {}
    return migration_policy.Policy(
        name=row.name.rpartition("/")[2],
        selectors=migration_policy.Selectors(
            namespace=selectors.get("namespace_selector") or {},
            virtual_machine_instance=selectors.get("virtual_machine_instance_selector") or {},
        ),
    )


class MigrationService:
    def __init__(self, db: Database):
        self._db = db

    # --- configuration ----------------------------------------------------------------------------

    async def get_config(self, request: pb.GetMigrationConfigRequest) -> pb.MigrationConfig:
        cluster = parse_config_name(request.name)
        async with self._db.transaction() as session:
            version = await _kubevirt_version(session, cluster)
            row = await resources.get_live(session, MigrationConfigRow, request.name)
        config = config_to_proto(row) if row is not None else pb.MigrationConfig(name=request.name, state=1)
        return _with_effective(config, version)

    async def update_config(self, request: pb.UpdateMigrationConfigRequest) -> operations_pb2.Operation:
        name = request.migration_config.name
        cluster = parse_config_name(name, "migration_config.name")
        paths = _update_paths(request.migration_config, request.update_mask.paths, "MigrationConfig", True)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            version = await _kubevirt_version(session, cluster)
            # The first update creates the row: two at once would both insert. The second waits here, then
            # finds the first's row and applies on top of it.
            await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(name))))
            row = await resources.get_live(session, MigrationConfigRow, name, lock=True)
            current = config_to_proto(row) if row is not None else pb.MigrationConfig(name=name)
            common.check_etag(request.migration_config.etag, current.etag, name, "migration_config.etag")
            _apply_mask(request.migration_config, current, paths)
            violations = _metadata_violations(current, "migration_config") + _settings_violations(
                current.spec, "migration_config.spec"
            )
            if violations:
                raise InvalidArgument.of(violations)
            if request.validate_only:
                return intent.done_operation(_with_effective(current, version))
            if row is None:
                spec = json_format.MessageToDict(current.spec, preserving_proto_field_name=True)
                labels, annotations = dict(current.labels), dict(current.annotations)
                row = _new_row(MigrationConfigRow, name, cluster, spec, labels, annotations, "ACTIVE", at)
                session.add(row)
                await session.flush()
                await CONFIG_KIND.record(session, row, "ADDED", at)
            else:
                await CONFIG_KIND.set_intent(session, row, current, at)
            return await CONFIG_KIND.operation(session, row, "update", request.request_id, at)

        return await intent.idempotent(
            self._db, "UpdateMigrationConfig", request, operations_pb2.Operation, work, dry_run=request.validate_only
        )

    # --- policies ---------------------------------------------------------------------------------

    async def get_policy(self, request: pb.GetMigrationPolicyRequest) -> pb.MigrationPolicy:
        cluster, _ = parse_policy_name(request.name)
        async with self._db.transaction() as session:
            row = await resources.get_live(session, MigrationPolicyRow, request.name)
            if row is None:
                raise _policy_not_found(request.name)
            governed = await _governed(session, cluster)
        return _with_governed(policy_to_proto(row), governed)

    async def list_policies(self, request: pb.ListMigrationPoliciesRequest) -> pb.ListMigrationPoliciesResponse:
        cluster = parse_cluster_name(request.parent, "parent")
        size = page_token.page_size(request.page_size)
        digest = page_token.query_digest(request.parent)
        after = page_token.decode(request.page_token, digest)
        async with self._db.transaction() as session:
            rows = await resources.page(
                session,
                MigrationPolicyRow,
                where=[MigrationPolicyRow.cluster == cluster],
                order_column="name",
                descending=False,
                after=after,
                limit=size + 1,
            )
            governed = await _governed(session, cluster)
        response = pb.ListMigrationPoliciesResponse(
            migration_policies=[_with_governed(policy_to_proto(row), governed) for row in rows[:size]]
        )
        if len(rows) > size:
            response.next_page_token = page_token.encode([rows[size - 1].name], digest)
        return response

    async def create_policy(self, request: pb.CreateMigrationPolicyRequest) -> operations_pb2.Operation:
        cluster = parse_cluster_name(request.parent, "parent")
        check_id(request.migration_policy_id, "migration_policy_id")
        name = f"clusters/{cluster}/migrationPolicies/{request.migration_policy_id}"
        violations = _policy_violations(request.migration_policy, "migration_policy")
        if violations:
            raise InvalidArgument.of(violations)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            await intent.require_cluster(session, cluster)
            if await resources.get_live(session, MigrationPolicyRow, name) is not None:
                raise _policy_exists(name)
            if request.validate_only:
                preview = pb.MigrationPolicy()
                preview.CopyFrom(request.migration_policy)
                preview.name = name
                return intent.done_operation(preview)
            return await self._insert_policy(session, cluster, name, request.migration_policy, request.request_id, at)

        return await intent.idempotent(
            self._db, "CreateMigrationPolicy", request, operations_pb2.Operation, work, dry_run=request.validate_only
        )

    async def update_policy(self, request: pb.UpdateMigrationPolicyRequest) -> operations_pb2.Operation:
        name = request.migration_policy.name
        cluster, _ = parse_policy_name(name, "migration_policy.name")
        paths = _update_paths(request.migration_policy, request.update_mask.paths, "MigrationPolicy", False)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            row = await resources.get_live(session, MigrationPolicyRow, name, lock=True)
            if row is None:
                if not request.allow_missing:
                    raise _policy_not_found(name)
                violations = _policy_violations(request.migration_policy, "migration_policy")
                if violations:
                    raise InvalidArgument.of(violations)
                await intent.require_cluster(session, cluster)
                if request.validate_only:
                    return intent.done_operation(request.migration_policy)
                return await self._insert_policy(
                    session, cluster, name, request.migration_policy, request.request_id, at
                )
            common.check_etag(request.migration_policy.etag, row.etag, name, "migration_policy.etag")
            if row.delete_time is not None:
                raise FailedPrecondition(
                    f"migration policy {name} is being deleted", reason="DELETING", metadata={"resource": name}
                )
            merged = policy_to_proto(row)
            _apply_mask(request.migration_policy, merged, paths)
            violations = _policy_violations(merged, "migration_policy")
            if violations:
                raise InvalidArgument.of(violations)
            if request.validate_only:
                return intent.done_operation(merged)
            await POLICY_KIND.set_intent(session, row, merged, at)
            return await POLICY_KIND.operation(session, row, "update", request.request_id, at)

        return await intent.idempotent(
            self._db, "UpdateMigrationPolicy", request, operations_pb2.Operation, work, dry_run=request.validate_only
        )

    async def delete_policy(self, request: pb.DeleteMigrationPolicyRequest) -> operations_pb2.Operation:
        parse_policy_name(request.name)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            row = await resources.get_live(session, MigrationPolicyRow, request.name, lock=True)
            if row is None:
                if not request.allow_missing:
                    raise _policy_not_found(request.name)
                return intent.done_operation(empty_pb2.Empty())
            common.check_etag(request.etag, row.etag, request.name)
            if request.validate_only:
                return intent.done_operation(empty_pb2.Empty())
            if row.delete_time is None:
                row.delete_time = at
                row.state = "DELETING"
                await POLICY_KIND.bump(session, row, "MODIFIED", at)
            return await POLICY_KIND.operation(session, row, "delete", request.request_id, at)

        return await intent.idempotent(
            self._db, "DeleteMigrationPolicy", request, operations_pb2.Operation, work, dry_run=request.validate_only
        )

    # --- explain ----------------------------------------------------------------------------------

    async def resolve(self, request: pb.ResolveMigrationPolicyRequest) -> pb.MigrationPolicyResolution:
        cluster = parse_cluster_name(request.parent, "parent")
        violations = label_violations(
            dict(request.virtual_machine_instance_labels), "virtual_machine_instance_labels"
        ) + label_violations(dict(request.namespace_labels), "namespace_labels")
        data_bytes = None
        if request.memory:
            try:
                data_bytes = quantity_bytes(request.memory)
            except ValueError as error:
                violations.append(FieldViolation("memory", str(error)))
        if violations:
            raise InvalidArgument.of(violations)
        async with self._db.transaction() as session:
            await intent.require_cluster(session, cluster)
            answer = await _resolution(
                session, cluster, dict(request.virtual_machine_instance_labels), dict(request.namespace_labels)
            )
        if data_bytes is not None:
            _set_timeout(answer, data_bytes, "")
        return answer

    async def resolve_vm(self, request: pb.ResolveVirtualMachineMigrationPolicyRequest) -> pb.MigrationPolicyResolution:
        name = parse_vm_name(request.name)
        violations = label_violations(dict(request.namespace_labels), "namespace_labels")
        if violations:
            raise InvalidArgument.of(violations)
        async with self._db.transaction() as session:
            vm = await _vm(session, str(name))
            if request.namespace_labels:  # a what-if: these instead of the labels observed on the cluster
                namespace = {**request.namespace_labels, NAMESPACE_NAME_LABEL: name.namespace}
            else:
                namespace = namespace_labels(name.namespace, await _observed_namespaces(session, name.cluster))
            answer = await _resolution(session, name.cluster, vmi_labels(vm), namespace)
        verdict = live_migration.migratability(vm.spec, vm.state, vm.conditions, vm.status.get("disks", []))
        answer.live_migratability.CopyFrom(_migratability_proto(verdict))
        size = live_migration.migration_data_size(vm.spec)
        _set_timeout(answer, size.bytes, size.note)
        return answer

    # --- migrations -------------------------------------------------------------------------------

    async def migrate(self, request: pb.MigrateVirtualMachineRequest) -> operations_pb2.Operation:
        name = parse_vm_name(request.name)
        migration_id = request.migration_id or f"m-{uuid.uuid4().hex[:12]}"
        if request.migration_id:
            check_id(request.migration_id, "migration_id")
        if request.target_node and (len(request.target_node) > 253 or not _SUBDOMAIN.fullmatch(request.target_node)):
            raise InvalidArgument.for_field("target_node", "must be a node name (a DNS subdomain)")
        migration_name = f"{name}/migrations/{migration_id}"

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            vm = await _vm(session, str(name), lock=True)
            if vm.delete_time is not None:
                raise FailedPrecondition(
                    f"virtual machine {name} is being deleted", reason="DELETING", metadata={"resource": str(name)}
                )
            verdict = live_migration.migratability(vm.spec, vm.state, vm.conditions, vm.status.get("disks", []))
            if verdict.status == live_migration.NOT_MIGRATABLE:
                not_running = verdict.reason == live_migration.NOT_RUNNING
                raise FailedPrecondition(
                    f"virtual machine {name} cannot live-migrate: {verdict.reason}: {verdict.message}",
                    reason="VIRTUAL_MACHINE_NOT_RUNNING" if not_running else "NOT_LIVE_MIGRATABLE",
                    metadata={"resource": str(name), "live_migratable_reason": verdict.reason},
                )
            if request.target_node and request.target_node == vm.status.get("node"):
                raise FailedPrecondition(
                    f"virtual machine {name} already runs on node {request.target_node}",
                    reason="ALREADY_ON_TARGET_NODE",
                    metadata={"resource": str(name), "node": request.target_node},
                )
            unfinished = await _unfinished(session, vm.uid)
            if unfinished is not None:
                raise FailedPrecondition(
                    f"virtual machine {name} is already migrating ({unfinished}); wait for it or cancel it",
                    reason="MIGRATION_IN_PROGRESS",
                    metadata={"resource": str(name), "migration": unfinished},
                )
            spec = {"target_node": request.target_node} if request.target_node else {}
            row = _new_row(MigrationRow, migration_name, name.cluster, spec, {}, {}, "PENDING", at)
            row.namespace, row.vm, row.vm_uid = name.namespace, name.vm, vm.uid
            session.add(row)
            try:
                await session.flush()
            except IntegrityError as error:
                raise AlreadyExists(
                    f"migration {migration_name} already exists",
                    reason="MIGRATION_EXISTS",
                    metadata={"resource": migration_name},
                ) from error
            await MIGRATION_KIND.record(session, row, "ADDED", at)
            return await MIGRATION_KIND.operation(session, row, "migrate", request.request_id, at)

        return await intent.idempotent(self._db, "MigrateVirtualMachine", request, operations_pb2.Operation, work)

    async def get_migration(self, request: pb.GetMigrationRequest) -> pb.Migration:
        parse_migration_name(request.name)
        async with self._db.transaction() as session:
            row = await resources.get_live(session, MigrationRow, request.name)
        if row is None:
            raise _migration_not_found(request.name)
        return migration_to_proto(row)

    async def list_migrations(self, request: pb.ListMigrationsRequest) -> pb.ListMigrationsResponse:
        vm = parse_vm_name(request.parent, "parent")
        size = page_token.page_size(request.page_size)
        digest = page_token.query_digest(request.parent)
        after = page_token.decode(request.page_token, digest)
        if after is not None:
            after = [datetime.fromisoformat(after[0]), after[1]]
        async with self._db.transaction() as session:
            rows = await resources.page(
                session,
                MigrationRow,
                where=[
                    MigrationRow.cluster == vm.cluster,
                    MigrationRow.namespace == vm.namespace,
                    MigrationRow.vm == vm.vm,
                ],
                order_column="create_time",
                descending=True,
                after=after,
                limit=size + 1,
            )
        response = pb.ListMigrationsResponse(migrations=[migration_to_proto(row) for row in rows[:size]])
        if len(rows) > size:
            last = rows[size - 1]
            response.next_page_token = page_token.encode([last.create_time.isoformat(), last.name], digest)
        return response

    async def cancel_migration(self, request: pb.CancelMigrationRequest) -> operations_pb2.Operation:
        parse_migration_name(request.name)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            row = await resources.get_live(session, MigrationRow, request.name, lock=True)
            if row is None:
                raise _migration_not_found(request.name)
            common.check_etag(request.etag, row.etag, request.name)
            if row.state in FINAL_STATES:
                raise FailedPrecondition(
                    f"migration {request.name} already ended ({row.state}); there is nothing to cancel",
                    reason="MIGRATION_FINISHED",
                    metadata={"resource": request.name, "state": row.state},
                )
            if not row.spec.get("cancel_requested"):
                row.spec = {**row.spec, "cancel_requested": True}
                await MIGRATION_KIND.bump(session, row, "MODIFIED", at)
            return await MIGRATION_KIND.operation(session, row, "cancel", request.request_id, at)

        return await intent.idempotent(self._db, "CancelMigration", request, operations_pb2.Operation, work)

    # --- evacuation -------------------------------------------------------------------------------

    async def evacuate_node(self, request: pb.EvacuateNodeRequest) -> operations_pb2.Operation:
        cluster, node = parse_node_name(request.name)

        async def work(session: AsyncSession, at: datetime) -> operations_pb2.Operation:
            await intent.require_cluster(session, cluster)
            operation = common.new_operation(
                target=request.name,
                target_uid=uuid.uuid4(),
                verb="evacuate",
                target_generation=0,
                request_id=request.request_id,
                at=at,
            )
            operation.target_uid = operation.id
            query = (
                select(VirtualMachineRow)
                .where(
                    VirtualMachineRow.cluster == cluster,
                    VirtualMachineRow.purged.is_(False),
                    VirtualMachineRow.delete_time.is_(None),
                    VirtualMachineRow.status["node"].astext == node,
                )
                .order_by(VirtualMachineRow.name)
                .with_for_update()
            )
            migrations: list[str] = []
            not_moved: list[dict[str, str]] = []
            for vm in (await session.execute(query)).scalars():
                verdict = live_migration.migratability(vm.spec, vm.state, vm.conditions, vm.status.get("disks", []))
                if verdict.status == live_migration.NOT_MIGRATABLE:
                    not_moved.append({"virtual_machine": vm.name, "reason": verdict.reason, "message": verdict.message})
                    continue
                unfinished = await _unfinished(session, vm.uid)
                if unfinished is not None:
                    migrations.append(unfinished)
                    continue
                name = f"{vm.name}/migrations/evacuate-{operation.id.hex[:8]}"
                row = _new_row(
                    MigrationRow,
                    name,
                    cluster,
                    {},
                    {},
                    {EVACUATION_ANNOTATION: f"operations/{operation.id}"},
                    "PENDING",
                    at,
                )
                row.namespace, row.vm, row.vm_uid = vm.namespace, vm.name.rsplit("/", 1)[1], vm.uid
                session.add(row)
                await session.flush()
                await MIGRATION_KIND.record(session, row, "ADDED", at)
                migrations.append(name)
            operation.progress = {"node": request.name, "migrations": migrations, "not_moved": not_moved}
            operation.status_message = f"0 of {len(migrations)} migrations ended"
            if not migrations:
                response = pb.EvacuateNodeResponse(node=request.name)
                for item in not_moved:
                    response.not_moved.add(**item)
                work_done(operation, at, "nothing on the node can move" if not_moved else "no VM runs there", response)
            session.add(operation)
            return common.operation_to_proto(operation)

        return await intent.idempotent(self._db, "EvacuateNode", request, operations_pb2.Operation, work)

    # --- helpers ----------------------------------------------------------------------------------

    async def _insert_policy(
        self, session: AsyncSession, cluster: str, name: str, policy: pb.MigrationPolicy, request_id: str, at: datetime
    ) -> operations_pb2.Operation:
        spec = json_format.MessageToDict(policy.spec, preserving_proto_field_name=True)
        row = _new_row(
            MigrationPolicyRow, name, cluster, spec, dict(policy.labels), dict(policy.annotations), "ACTIVE", at
        )
        session.add(row)
        try:
            await session.flush()
        except IntegrityError as error:
            raise _policy_exists(name) from error
        await POLICY_KIND.record(session, row, "ADDED", at)
        return await POLICY_KIND.operation(session, row, "create", request_id, at)


async def _unfinished(session: AsyncSession, vm_uid: uuid.UUID) -> str | None:
    query = select(MigrationRow.name).where(
        MigrationRow.vm_uid == vm_uid, MigrationRow.purged.is_(False), MigrationRow.state.not_in(FINAL_STATES)
    )
    return (await session.execute(query)).scalar()


def work_done(operation: OperationRow, at: datetime, message: str, response: Message) -> None:
    operation.done = True
    operation.end_time = at
    operation.update_time = at
    operation.status_message = message
    operation.response = common.any_to_json(response)


async def finish_evacuations(session: AsyncSession, cluster: str, at: datetime) -> None:
    """Finish the cluster's evacuations whose migrations have all ended (their progress lists them)."""
    query = (
        select(OperationRow)
        .where(
            OperationRow.verb == "evacuate",
            OperationRow.done.is_(False),
            OperationRow.target.like(f"clusters/{cluster}/nodes/%"),
        )
        .with_for_update(skip_locked=True)
    )
    for operation in (await session.execute(query)).scalars().all():
        progress = operation.progress or {}
        names = list(progress.get("migrations") or [])
        rows = {
            row.name: row
            for row in (
                await session.execute(
                    select(MigrationRow).where(MigrationRow.name.in_(names), MigrationRow.purged.is_(False))
                )
            ).scalars()
        }
        ended = [name for name in names if name not in rows or rows[name].state in FINAL_STATES]
        if len(ended) < len(names):
            message = f"{len(ended)} of {len(names)} migrations ended"
            if operation.status_message != message:
                operation.status_message, operation.update_time = message, at
            continue
        response = pb.EvacuateNodeResponse(node=str(progress.get("node", operation.target)), migrations=names)
        for item in progress.get("not_moved") or []:
            response.not_moved.add(**item)
        for name in names:
            row = rows.get(name)
            vm = name.rpartition("/migrations/")[0]
            if row is not None and row.state == "SUCCEEDED":
                response.moved.append(vm)
            else:
                reason = str((row.status if row is not None else {}).get("failure_reason", "the migration is gone"))
                response.not_moved.add(virtual_machine=vm, reason="MigrationFailed", message=reason, migration=name)
        summary = f"{len(response.moved)} moved, {len(response.not_moved)} not moved"
        work_done(operation, at, summary, response)


def _new_row(
    model: Any,
    name: str,
    cluster: str,
    spec: dict[str, Any],
    labels: dict[str, str],
    annotations: dict[str, str],
    state: str,
    at: datetime,
) -> Any:
    uid = uuid.uuid4()
    return model(
        name=name,
        cluster=cluster,
        spec=spec,
        state=state,
        labels=labels,
        annotations=annotations,
        **common.first_generation(uid, at),
    )


async def _kubevirt_version(session: AsyncSession, cluster: str) -> str:
    query = select(ClusterRow.versions).where(ClusterRow.name == f"clusters/{cluster}", ClusterRow.purged.is_(False))
    versions = (await session.execute(query)).scalar_one_or_none()
    if versions is None:
        await intent.require_cluster(session, cluster)
    return str((versions or {}).get("kubevirt", ""))


def _with_effective(config: pb.MigrationConfig, version: str) -> pb.MigrationConfig:
    effective = migration_config.effective(version, _set_values(config.spec))
    settings, provenance = _effective_proto(effective)
    config.status.effective.CopyFrom(settings)
    config.status.provenance.extend(provenance)
    config.status.kubevirt_version = version
    return config


async def _live_policies(session: AsyncSession, cluster: str) -> Sequence[MigrationPolicyRow]:
    query = select(MigrationPolicyRow).where(
        MigrationPolicyRow.cluster == cluster,
        MigrationPolicyRow.purged.is_(False),
        MigrationPolicyRow.delete_time.is_(None),
    )
    return (await session.execute(query)).scalars().all()


async def _governed(session: AsyncSession, cluster: str) -> dict[str, list[str]]:
    """Policy name → the VMs it wins for, in name order."""
    policies = [_as_policy(row) for row in await _live_policies(session, cluster)]
    out: dict[str, list[str]] = {}
    if not policies:
        return out
    query = (
        select(VirtualMachineRow)
        .where(VirtualMachineRow.cluster == cluster, VirtualMachineRow.purged.is_(False))
        .order_by(VirtualMachineRow.name)
    )
    observed = await _observed_namespaces(session, cluster)
    for vm in (await session.execute(query)).scalars():
        winner = migration_policy.resolve(policies, vmi_labels(vm), namespace_labels(vm.namespace, observed)).winner
        if winner is not None:
            out.setdefault(f"clusters/{cluster}/migrationPolicies/{winner}", []).append(vm.name)
    return out


def _with_governed(policy: pb.MigrationPolicy, governed: Mapping[str, list[str]]) -> pb.MigrationPolicy:
    names = governed.get(policy.name, []) if policy.state == pb.MigrationPolicy.ACTIVE else []
    policy.status.governed_virtual_machine_count = len(names)
    policy.status.governed_virtual_machines.extend(names[:GOVERNED_LISTED])
    return policy


async def _resolution(
    session: AsyncSession, cluster: str, vmi: dict[str, str], namespace: dict[str, str]
) -> pb.MigrationPolicyResolution:
    rows = {row.name.rpartition("/")[2]: row for row in await _live_policies(session, cluster)}
    result = migration_policy.resolve([_as_policy(row) for row in rows.values()], vmi, namespace)
    version = await _kubevirt_version(session, cluster)
    config_row = await resources.get_live(session, MigrationConfigRow, f"clusters/{cluster}/migrationConfig")
    cluster_values = _stored_values(config_row.spec, pb.MigrationSettings) if config_row is not None else {}
    winner = rows[result.winner] if result.winner is not None else None
    policy_values = _stored_values(winner.spec, pb.MigrationPolicySpec) if winner is not None else None
    effective = migration_config.effective(version, cluster_values, result.winner, policy_values)
    settings, provenance = _effective_proto(effective)
    prefix = f"clusters/{cluster}/migrationPolicies/"
    return pb.MigrationPolicyResolution(
        policy=prefix + result.winner if result.winner is not None else "",
        reason=result.reason,
        candidates=[
            pb.PolicyCandidate(
                policy=prefix + c.policy,
                matches=c.matches,
                matching_virtual_machine_instance_labels=c.score.vmi,
                matching_namespace_labels=c.score.namespace,
                explanation=c.explanation,
            )
            for c in result.candidates
        ],
        virtual_machine_instance_labels=vmi,
        namespace_labels=namespace,
        no_labels_quirk=result.labels_quirk,
        effective=settings,
        provenance=provenance,
        kubevirt_version=version,
    )


def _set_timeout(answer: pb.MigrationPolicyResolution, data_bytes: int, note: str) -> None:
    timeout = migration_config.completion_timeout(answer.effective.completion_timeout_per_gib, data_bytes)
    answer.completion_timeout.CopyFrom(
        pb.CompletionTimeout(
            seconds=timeout.seconds,
            data_bytes=timeout.data_bytes,
            completion_timeout_per_gib=timeout.per_gib,
            formula=timeout.formula,
            note=note,
        )
    )


def _migratability_proto(verdict: live_migration.Migratability) -> pb.LiveMigratability:
    return pb.LiveMigratability(
        status=pb.LiveMigratability.Status.Value(verdict.status),
        reason=verdict.reason,
        message=verdict.message,
        method=pb.LiveMigratability.Method.Value(verdict.method),
    )


async def _vm(session: AsyncSession, name: str, *, lock: bool = False) -> VirtualMachineRow:
    row = await resources.get_live(session, VirtualMachineRow, name, lock=lock)
    if row is None:
        raise NotFound(
            f"virtual machine {name} does not exist", reason="VIRTUAL_MACHINE_NOT_FOUND", metadata={"resource": name}
        )
    return row


def _policy_not_found(name: str) -> NotFound:
    return NotFound(
        f"migration policy {name} does not exist", reason="MIGRATION_POLICY_NOT_FOUND", metadata={"resource": name}
    )


def _policy_exists(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"migration policy {name} already exists", reason="MIGRATION_POLICY_EXISTS", metadata={"resource": name}
    )


def _migration_not_found(name: str) -> NotFound:
    return NotFound(f"migration {name} does not exist", reason="MIGRATION_NOT_FOUND", metadata={"resource": name})
