"""Initial schema: clusters, virtual machines, operations, change log, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _resource_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("uid", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("cluster", sa.Text(), nullable=False),
        sa.Column("spec", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("status", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("conditions", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("labels", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("annotations", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("observed_generation", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("etag", sa.Text(), nullable=False),
        sa.Column("create_time", TS, nullable=False),
        sa.Column("update_time", TS, nullable=False),
        sa.Column("delete_time", TS, nullable=True),
        sa.Column("purged", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "clusters",
        *_resource_columns(),
        sa.Column("flavor", sa.Text(), nullable=False),
        sa.Column("versions", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("kubeconfig", sa.LargeBinary(), nullable=True),
    )
    op.create_table("virtual_machines", *_resource_columns(), sa.Column("namespace", sa.Text(), nullable=False))
    op.create_index(
        "virtual_machines_name_live", "virtual_machines", ["name"], unique=True, postgresql_where=sa.text("NOT purged")
    )
    op.create_index("virtual_machines_labels", "virtual_machines", ["labels"], postgresql_using="gin")
    op.create_index(
        "virtual_machines_parent_create", "virtual_machines", ["cluster", "namespace", "create_time", "name"]
    )
    op.create_table(
        "operations",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("target_uid", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("verb", sa.Text(), nullable=False),
        sa.Column("target_generation", sa.BigInteger(), nullable=False),
        sa.Column("done", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("error", postgresql.JSONB(), nullable=True),
        sa.Column("response", postgresql.JSONB(), nullable=True),
        sa.Column("status_message", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("create_time", TS, nullable=False),
        sa.Column("update_time", TS, nullable=False),
        sa.Column("end_time", TS, nullable=True),
    )
    op.create_index("operations_target", "operations", ["target", "create_time"])
    op.create_index("operations_pending", "operations", ["create_time"], postgresql_where=sa.text("NOT done"))
    op.create_table(
        "changes",
        sa.Column("revision", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("parent", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("uid", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("resource", postgresql.JSONB(), nullable=False),
        sa.Column("create_time", TS, nullable=False),
    )
    op.create_table(
        "revision_counter",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("last_revision", sa.BigInteger(), nullable=False),
        sa.Column("compacted_revision", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO revision_counter (id, last_revision, compacted_revision) VALUES (1, 0, 0)")
    op.create_table(
        "idempotency_keys",
        sa.Column("request_id", sa.Text(), primary_key=True),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.Column("create_time", TS, nullable=False),
    )
    # The local cluster always exists: the embedded simulator under `harrow-server up`,
    # the in-cluster configuration under `serve`.
    op.execute(
        """
        INSERT INTO clusters (uid, name, cluster, state, generation, etag, create_time, update_time, revision, flavor)
        VALUES (gen_random_uuid(), 'clusters/local', 'local', 'UNREACHABLE', 1, '"local-1"', now(), now(), 0,
                'KUBEVIRT')
        """
    )


def downgrade() -> None:
    for table in ("idempotency_keys", "revision_counter", "changes", "operations", "virtual_machines", "clusters"):
        op.drop_table(table)
