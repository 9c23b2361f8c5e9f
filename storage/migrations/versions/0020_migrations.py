"""Live migration: cluster migration configs, migration policies and migrations.

Revision ID: 0020
Revises: 0010
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _resource_columns() -> list[sa.Column[object]]:
    """The columns every resource table has at this revision (0001 plus 0002's work leases)."""
    jsonb = postgresql.JSONB()
    return [
        sa.Column("uid", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("cluster", sa.Text(), nullable=False),
        sa.Column("spec", jsonb, server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("status", jsonb, server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("conditions", jsonb, server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("labels", jsonb, server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("annotations", jsonb, server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("observed_generation", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("etag", sa.Text(), nullable=False),
        sa.Column("create_time", TS, nullable=False),
        sa.Column("update_time", TS, nullable=False),
        sa.Column("delete_time", TS, nullable=True),
        sa.Column("purged", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("applied_generation", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("lease_expires_at", TS, nullable=True),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    live = sa.text("NOT purged")
    op.create_table("migration_configs", *_resource_columns())
    op.create_index("migration_configs_name_live", "migration_configs", ["name"], unique=True, postgresql_where=live)
    op.create_table("migration_policies", *_resource_columns())
    op.create_index("migration_policies_name_live", "migration_policies", ["name"], unique=True, postgresql_where=live)
    op.create_table(
        "migrations",
        *_resource_columns(),
        sa.Column("namespace", sa.Text(), nullable=False),
        sa.Column("vm", sa.Text(), nullable=False),
        sa.Column("vm_uid", postgresql.UUID(as_uuid=True), nullable=False),
    )
    op.create_index("migrations_name_live", "migrations", ["name"], unique=True, postgresql_where=live)
    op.create_index("migrations_vm", "migrations", ["vm_uid", "create_time"])
    op.create_index("migrations_work", "migrations", ["cluster", "next_attempt_at"], postgresql_where=live)


def downgrade() -> None:
    for table in ("migrations", "migration_policies", "migration_configs"):
        op.drop_table(table)
