"""Work leases: reconcile workers claim rows in PostgreSQL, so any number of replicas can share one database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

`applied_generation` is the generation last written to the cluster (the
cluster may not show it yet; that is `observed_generation`). A row needs work
when it is ahead of what was applied, being deleted, or due (`next_attempt_at`:
a retry after a failure, or the periodic resync). A claim is a lease: a
crashed replica's rows become claimable again when `lease_expires_at` passes.
`operations.progress` remembers what a lifecycle call already asked the cluster
(e.g. the VMI a restart must replace), so a retry never asks twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
TABLES = ("clusters", "virtual_machines")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table, sa.Column("applied_generation", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        op.add_column(table, sa.Column("claimed_by", sa.Text(), nullable=True))
        op.add_column(table, sa.Column("lease_expires_at", TS, nullable=True))
        op.add_column(table, sa.Column("next_attempt_at", TS, nullable=True))
        op.add_column(table, sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False))
        op.add_column(table, sa.Column("last_error", sa.Text(), nullable=True))
    op.create_index(
        "virtual_machines_work",
        "virtual_machines",
        ["cluster", "next_attempt_at"],
        postgresql_where=sa.text("NOT purged"),
    )
    op.add_column("operations", sa.Column("progress", postgresql.JSONB(), nullable=True))
    op.create_index("operations_pending_target", "operations", ["target_uid"], postgresql_where=sa.text("NOT done"))


def downgrade() -> None:
    op.drop_index("operations_pending_target", table_name="operations")
    op.drop_column("operations", "progress")
    op.drop_index("virtual_machines_work", table_name="virtual_machines")
    for table in TABLES:
        for column in (
            "last_error",
            "attempts",
            "next_attempt_at",
            "lease_expires_at",
            "claimed_by",
            "applied_generation",
        ):
            op.drop_column(table, column)
