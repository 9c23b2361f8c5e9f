"""Storage profiles: one row per StorageClass of each cluster, observed by the reconciler.

Revision ID: 0060
Revises: 0050
Create Date: 2026-11-21

The reconciler creates a row for every StorageClass it sees and purges it when the class goes (CDI keeps
one StorageProfile per class, named after it). Users only write `spec` (overrides); `observed` keeps the
cluster objects the status was computed from, so StorageClasses are listed without asking the cluster.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0060"
down_revision: str | None = "0050"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    jsonb = postgresql.JSONB()
    live = sa.text("NOT purged")
    op.create_table(
        "storage_profiles",
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
        sa.Column("applied_generation", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("lease_expires_at", TS, nullable=True),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("storage_class", sa.Text(), nullable=False),
        sa.Column("observed", jsonb, server_default=sa.text("'{}'::jsonb"), nullable=False),
    )
    op.create_index("storage_profiles_name_live", "storage_profiles", ["name"], unique=True, postgresql_where=live)
    op.create_index("storage_profiles_work", "storage_profiles", ["cluster", "next_attempt_at"], postgresql_where=live)


def downgrade() -> None:
    op.drop_table("storage_profiles")
