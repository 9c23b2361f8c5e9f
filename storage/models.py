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

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, LargeBinary, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
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
    # Revision of the last change row written for this resource.
    revision: Mapped[int] = mapped_column(BigInteger)
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
    """One row per write to a resource, numbered by a revision that commits in order (see repos/changes.py)."""

    __tablename__ = "changes"
    revision: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    # The collection the resource lives in, e.g. clusters/local/namespaces/default.
    parent: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    uid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    event_type: Mapped[str] = mapped_column(Text)
    # The resource after the change, in proto3 JSON.
    resource: Mapped[Json]
    create_time: Mapped[datetime]


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
