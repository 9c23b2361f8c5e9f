"""VM snapshots, backups and exported images (issue 7): one table each, rows written by the API.

Revision ID: 0080
Revises: 0070
Create Date: 2026-11-22

A backup or image names its VM by namespace and ID and keeps the VM's uid: it outlives the VM (as in
Harvester), so there is no foreign key, and a namesake VM created later is told apart by the uid.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0080"
down_revision: str | None = "0070"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _resource_columns() -> list[sa.Column[object]]:
    """The columns every resource table has at this revision (0050 dropped `revision`)."""
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
        sa.Column("applied_generation", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("lease_expires_at", TS, nullable=True),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("namespace", sa.Text(), nullable=False),
        sa.Column("vm", sa.Text(), nullable=False),
        sa.Column("vm_uid", postgresql.UUID(as_uuid=True), nullable=False),
    ]


def upgrade() -> None:
    live = sa.text("NOT purged")
    for table, extra in (("vm_backups", []), ("vm_images", [sa.Column("disk", sa.Text(), nullable=False)])):
        op.create_table(table, *_resource_columns(), *extra)
        op.create_index(f"{table}_name_live", table, ["name"], unique=True, postgresql_where=live)
        op.create_index(f"{table}_parent_create", table, ["cluster", "namespace", "create_time", "name"])
        op.create_index(f"{table}_work", table, ["cluster", "next_attempt_at"], postgresql_where=live)


def downgrade() -> None:
    for table in ("vm_images", "vm_backups"):
        op.drop_table(table)
