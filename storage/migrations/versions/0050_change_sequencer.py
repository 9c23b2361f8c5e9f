"""Change rows are written unnumbered and numbered afterwards, in batches, by a sequencer.

Revision ID: 0050
Revises: 0040
Create Date: 2026-11-21

Until now every writing transaction took the revision counter's row lock and held it through its commit,
so all writes in the system queued behind one fsync each. Now a writer only inserts its change row
(revision NULL); the sequencer numbers committed rows under the counter lock, many per transaction
(storage/repos/changes.py). Resource rows no longer record the revision of their last change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0050"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESOURCE_TABLES = (
    "clusters",
    "virtual_machines",
    "ip_pools",
    "migration_configs",
    "migration_policies",
    "migrations",
)


def upgrade() -> None:
    op.drop_constraint("changes_pkey", "changes", type_="primary")
    op.add_column("changes", sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False))
    op.create_primary_key("changes_pkey", "changes", ["id"])
    op.alter_column("changes", "revision", nullable=True)
    op.create_index(
        "changes_revision", "changes", ["revision"], unique=True, postgresql_where=sa.text("revision IS NOT NULL")
    )
    op.create_index("changes_unsequenced", "changes", ["id"], postgresql_where=sa.text("revision IS NULL"))
    for table in RESOURCE_TABLES:
        op.drop_column(table, "revision")


def downgrade() -> None:
    for table in RESOURCE_TABLES:
        op.add_column(table, sa.Column("revision", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    op.drop_index("changes_unsequenced", table_name="changes")
    op.drop_index("changes_revision", table_name="changes")
    op.execute("DELETE FROM changes WHERE revision IS NULL")
    op.drop_constraint("changes_pkey", "changes", type_="primary")
    op.drop_column("changes", "id")
    op.alter_column("changes", "revision", nullable=False)
    op.create_primary_key("changes_pkey", "changes", ["revision"])
