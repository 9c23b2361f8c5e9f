"""IP pools, live allocations and the allocation ledger.

Revision ID: 0010
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0002"
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
    op.create_table("ip_pools", *_resource_columns())
    op.create_index("ip_pools_name_live", "ip_pools", ["name"], unique=True, postgresql_where=sa.text("NOT purged"))
    op.create_table(
        "ip_allocations",
        sa.Column("cluster", sa.Text(), primary_key=True),
        sa.Column("address", postgresql.INET(), primary_key=True),
        sa.Column("pool_uid", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("allocate_time", TS, nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.UniqueConstraint("pool_uid", "owner", name="ip_allocations_one_per_owner"),
    )
    op.create_index("ip_allocations_pool_address", "ip_allocations", ["pool_uid", "address"])
    op.create_table(
        "ip_allocation_events",
        sa.Column("sequence", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("cluster", sa.Text(), nullable=False),
        sa.Column("pool_uid", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("pool", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("address", postgresql.INET(), nullable=True),
        sa.Column("owner", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("time", TS, nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), server_default=sa.text("''"), nullable=False),
    )
    op.create_index("ip_allocation_events_pool", "ip_allocation_events", ["pool_uid", "sequence"])
    op.create_index("ip_allocation_events_owner", "ip_allocation_events", ["pool_uid", "owner", "sequence"])
    op.create_index("ip_allocation_events_address", "ip_allocation_events", ["pool_uid", "address", "sequence"])


def downgrade() -> None:
    for table in ("ip_allocation_events", "ip_allocations", "ip_pools"):
        op.drop_table(table)
