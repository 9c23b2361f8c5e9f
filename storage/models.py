"""Tables. The schema changes only through Alembic (storage/migrations); these
classes mirror it for queries.

Every resource table shares the columns of `ResourceColumns`, so queries for
listing, change logging and work claiming are written once. `spec` holds the
user's intent exactly as written (proto3 JSON, original field names); only the
API writes it. `status`, `state`, `conditions` and `observed_generation` are
the cluster's side; only the reconciler writes them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Json = dict[str, Any]


class Base(DeclarativeBase):
    type_annotation_map = {Json: JSONB, list[Any]: JSONB, datetime: DateTime(timezone=True)}


class ResourceColumns:
    uid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # Full resource name, e.g. clusters/local/namespaces/default/virtualMachines/web-1.
    name: Mapped[str] = mapped_column(Text)
    cluster: Mapped[str] = mapped_column(Text)
    spec: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))
    status: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))
    state: Mapped[str] = mapped_column(Text)
    conditions: Mapped[list[Any]] = mapped_column(server_default=text("'[]'::jsonb"))
    labels: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))
    annotations: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))
    generation: Mapped[int] = mapped_column(BigInteger)
    observed_generation: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    etag: Mapped[str] = mapped_column(Text)
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]
    # Deletion requested; the row stays visible until the cluster lets the object go.
    delete_time: Mapped[datetime | None]
    # Gone: kept only so the uid and its history stay resolvable.
    purged: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Reconcile work (storage/repos/work.py): the generation last written to the cluster, and the lease.
    applied_generation: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    claimed_by: Mapped[str | None] = mapped_column(Text)
    lease_expires_at: Mapped[datetime | None]
    # When to look again: a retry after a failure (attempts > 0) or the periodic resync.
    next_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)


class ClusterRow(ResourceColumns, Base):
    __tablename__ = "clusters"
    flavor: Mapped[str] = mapped_column(Text)
    versions: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))
    kubeconfig: Mapped[bytes | None] = mapped_column(LargeBinary)


class VirtualMachineRow(ResourceColumns, Base):
    __tablename__ = "virtual_machines"
    namespace: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        Index("virtual_machines_name_live", "name", unique=True, postgresql_where=text("NOT purged")),
        Index("virtual_machines_labels", "labels", postgresql_using="gin"),
        Index("virtual_machines_parent_create", "cluster", "namespace", "create_time", "name"),
        Index("virtual_machines_work", "cluster", "next_attempt_at", postgresql_where=text("NOT purged")),
    )


class OperationRow(Base):
    __tablename__ = "operations"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    target: Mapped[str] = mapped_column(Text)
    target_uid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    verb: Mapped[str] = mapped_column(Text)
    target_generation: Mapped[int] = mapped_column(BigInteger)
    done: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # google.rpc.Status in proto3 JSON when the operation failed.
    error: Mapped[Json | None]
    # The resource as it was when the operation finished (proto3 JSON).
    response: Mapped[Json | None]
    status_message: Mapped[str] = mapped_column(Text, server_default=text("''"))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    request_id: Mapped[str | None] = mapped_column(Text)
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]
    end_time: Mapped[datetime | None]
    # What the reconciler already asked the cluster for this operation (e.g. the VMI a restart replaces).
    progress: Mapped[Json | None]
    __table_args__ = (
        Index("operations_target", "target", "create_time"),
        Index("operations_pending", "create_time", postgresql_where=text("NOT done")),
        Index("operations_pending_target", "target_uid", postgresql_where=text("NOT done")),
    )


class ChangeRow(Base):
    """One row per write to a resource. Writers leave `revision` empty; the sequencer numbers committed rows
    in order (repos/changes.py), so readers only ever see numbered rows and never a gap that fills later."""

    __tablename__ = "changes"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    revision: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(Text)
    # The collection the resource lives in, e.g. clusters/local/namespaces/default.
    parent: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    uid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    event_type: Mapped[str] = mapped_column(Text)
    # The resource after the change, in proto3 JSON.
    resource: Mapped[Json]
    create_time: Mapped[datetime]
    __table_args__ = (
        Index("changes_revision", "revision", unique=True, postgresql_where=text("revision IS NOT NULL")),
        Index("changes_unsequenced", "id", postgresql_where=text("revision IS NULL")),
    )


class RevisionCounter(Base):
    """A single row: the last revision handed out, and the newest revision compacted away."""

    __tablename__ = "revision_counter"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    last_revision: Mapped[int] = mapped_column(BigInteger)
    compacted_revision: Mapped[int] = mapped_column(BigInteger)


class IdempotencyKey(Base):
    """request_id → the first answer, so a retried mutation returns it instead of acting twice."""

    __tablename__ = "idempotency_keys"
    request_id: Mapped[str] = mapped_column(Text, primary_key=True)
    method: Mapped[str] = mapped_column(Text)
    # sha256 of the request without its request_id: the same id with another request is refused.
    fingerprint: Mapped[str] = mapped_column(Text)
    response: Mapped[bytes | None] = mapped_column(LargeBinary)
    create_time: Mapped[datetime]


class IpPoolRow(ResourceColumns, Base):
    __tablename__ = "ip_pools"
    # The newest ledger sequence the cluster mirror (IPPool) shows, and when it was written (reconcile/pool_worker.py).
    mirrored_sequence: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    mirrored_at: Mapped[datetime | None]
    __table_args__ = (
        Index("ip_pools_name_live", "name", unique=True, postgresql_where=text("NOT purged")),
        Index("ip_pools_work", "cluster", "next_attempt_at", postgresql_where=text("NOT purged")),
    )


class IpAllocationRow(Base):
    """A live allocation. The primary key (cluster, address) is what makes two owners of one address
    impossible, whatever the concurrency or number of replicas; (pool, owner) is one address per owner."""

    __tablename__ = "ip_allocations"
    cluster: Mapped[str] = mapped_column(Text, primary_key=True)
    address: Mapped[Any] = mapped_column(INET, primary_key=True)
    pool_uid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    owner: Mapped[str] = mapped_column(Text)
    allocate_time: Mapped[datetime]
    request_id: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("pool_uid", "owner", name="ip_allocations_one_per_owner"),
        Index("ip_allocations_pool_address", "pool_uid", "address"),
        # Owners by prefix: a VM's NICs are `{vm name}/interfaces/…`.
        Index("ip_allocations_owner", "cluster", "owner", postgresql_ops={"owner": "text_pattern_ops"}),
    )


class IpAllocationEventRow(Base):
    """The append-only ledger: replaying it gives the live allocations."""

    __tablename__ = "ip_allocation_events"
    sequence: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    cluster: Mapped[str] = mapped_column(Text)
    pool_uid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    pool: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    address: Mapped[Any | None] = mapped_column(INET)
    owner: Mapped[str] = mapped_column(Text, server_default=text("''"))
    time: Mapped[datetime]
    request_id: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text, server_default=text("''"))
    __table_args__ = (
        Index("ip_allocation_events_pool", "pool_uid", "sequence"),
        Index("ip_allocation_events_owner", "pool_uid", "owner", "sequence"),
        Index("ip_allocation_events_address", "pool_uid", "address", "sequence"),
    )


class MigrationConfigRow(ResourceColumns, Base):
    """A cluster's migration configuration: one row per cluster, written on its first update."""

    __tablename__ = "migration_configs"
    __table_args__ = (Index("migration_configs_name_live", "name", unique=True, postgresql_where=text("NOT purged")),)


class MigrationPolicyRow(ResourceColumns, Base):
    __tablename__ = "migration_policies"
    __table_args__ = (Index("migration_policies_name_live", "name", unique=True, postgresql_where=text("NOT purged")),)


class MigrationRow(ResourceColumns, Base):
    """A live migration of one VM; `vm_uid` keeps it tied to that VM even if a namesake replaces it."""

    __tablename__ = "migrations"
    namespace: Mapped[str] = mapped_column(Text)
    vm: Mapped[str] = mapped_column(Text)
    vm_uid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    __table_args__ = (
        Index("migrations_name_live", "name", unique=True, postgresql_where=text("NOT purged")),
        Index("migrations_vm", "vm_uid", "create_time"),
        Index("migrations_work", "cluster", "next_attempt_at", postgresql_where=text("NOT purged")),
    )


class PrincipalRow(Base):
    """Someone or something that calls the API; `role_bindings` is a list of {role, cluster, namespace}."""

    __tablename__ = "principals"
    uid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # principals/{principal}
    name: Mapped[str] = mapped_column(Text, unique=True)
    display_name: Mapped[str] = mapped_column(Text, server_default=text("''"))
    role_bindings: Mapped[list[Any]] = mapped_column(server_default=text("'[]'::jsonb"))
    generation: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(Text)
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]


class PrincipalCertificateRow(Base):
    """A client certificate subject (RFC 4514) that authenticates as a principal; the key makes it unambiguous."""

    __tablename__ = "principal_certificates"
    subject: Mapped[str] = mapped_column(Text, primary_key=True)
    principal_uid: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("principals.uid", ondelete="CASCADE"), index=True
    )


class ApiTokenRow(Base):
    """A bearer token. Only the SHA-256 of its secret is kept: the secret is shown once, at creation."""

    __tablename__ = "api_tokens"
    uid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    principal_uid: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("principals.uid", ondelete="CASCADE"), index=True
    )
    display_name: Mapped[str] = mapped_column(Text, server_default=text("''"))
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    create_time: Mapped[datetime]
    expire_time: Mapped[datetime | None]
    revoke_time: Mapped[datetime | None]


class AuditRecordRow(Base):
    """Append-only: one row per mutation attempt by an authenticated caller (who, what, when, result)."""

    __tablename__ = "audit_records"
    sequence: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    time: Mapped[datetime]
    principal: Mapped[str] = mapped_column(Text)
    # The full RPC name, e.g. harrow.v1.VirtualMachineService/StartVirtualMachine.
    method: Mapped[str] = mapped_column(Text)
    # The resource or collection the request named.
    resource: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str] = mapped_column(Text, server_default=text("''"))
    # google.rpc.Code name of the outcome, and the ErrorInfo reason when it failed.
    code: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, server_default=text("''"))
    peer: Mapped[str] = mapped_column(Text, server_default=text("''"))
    __table_args__ = (Index("audit_records_principal", "principal", "sequence"),)


class StorageProfileRow(ResourceColumns, Base):
    """The CDI StorageProfile of one StorageClass (reconcile/storage_worker.py creates and purges these rows).

    `spec` holds the user's overrides; `observed` the cluster objects they were judged against (the
    StorageClass, the CDI StorageProfile, the CDI filesystem-overhead config and CDI version), so a
    StorageClass can be shown without a round trip to the cluster.
    """

    __tablename__ = "storage_profiles"
    storage_class: Mapped[str] = mapped_column(Text)
    observed: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))
    __table_args__ = (
        Index("storage_profiles_name_live", "name", unique=True, postgresql_where=text("NOT purged")),
        Index("storage_profiles_work", "cluster", "next_attempt_at", postgresql_where=text("NOT purged")),
    )


class _VmCopyColumns(ResourceColumns):
    """A snapshot, backup or image of a VM: the VM by namespace and ID, and its uid (it outlives the VM)."""

    namespace: Mapped[str] = mapped_column(Text)
    vm: Mapped[str] = mapped_column(Text)
    vm_uid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))


class VmBackupRow(_VmCopyColumns, Base):
    """A snapshot or backup of a VM (migration 0080); the cluster object is named after the ID."""

    __tablename__ = "vm_backups"
    __table_args__ = (
        Index("vm_backups_name_live", "name", unique=True, postgresql_where=text("NOT purged")),
        Index("vm_backups_parent_create", "cluster", "namespace", "create_time", "name"),
        Index("vm_backups_work", "cluster", "next_attempt_at", postgresql_where=text("NOT purged")),
    )


class VmImageRow(_VmCopyColumns, Base):
    """An image exported from one disk of a VM (migration 0080)."""

    __tablename__ = "vm_images"
    disk: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        Index("vm_images_name_live", "name", unique=True, postgresql_where=text("NOT purged")),
        Index("vm_images_parent_create", "cluster", "namespace", "create_time", "name"),
        Index("vm_images_work", "cluster", "next_attempt_at", postgresql_where=text("NOT purged")),
    )
