"""IP pool mirrors: how far the cluster's IPPool object follows the allocation ledger.

Revision ID: 0040
Revises: 0030
Create Date: 2026-11-22

Allocations do not bump a pool's generation (every allocation would then
queue on the pool row), so the reconciler compares the ledger's newest
sequence with `mirrored_sequence`, the newest one the IPPool mirror shows, and
waits `mirrored_at` + a debounce before writing again. `ip_pools_work` serves
the claim query, as `virtual_machines_work` does for VMs. `ip_allocations_owner`
finds a VM's NIC addresses (owners `{vm name}/interfaces/…`) by prefix.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ip_pools", sa.Column("mirrored_sequence", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column("ip_pools", sa.Column("mirrored_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ip_pools_work", "ip_pools", ["cluster", "next_attempt_at"], postgresql_where=sa.text("NOT purged"))
    op.create_index(
        "ip_allocations_owner", "ip_allocations", ["cluster", "owner"], postgresql_ops={"owner": "text_pattern_ops"}
    )


def downgrade() -> None:
    op.drop_index("ip_allocations_owner", table_name="ip_allocations")
    op.drop_index("ip_pools_work", table_name="ip_pools")
    op.drop_column("ip_pools", "mirrored_at")
    op.drop_column("ip_pools", "mirrored_sequence")
