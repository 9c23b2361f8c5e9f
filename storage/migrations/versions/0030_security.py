"""Security: principals with role bindings, client certificate subjects, API tokens (hashes only), audit records.

Revision ID: 0030
Revises: 0020
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0030"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
UUID = postgresql.UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("uid", UUID, primary_key=True),
        sa.Column("name", sa.Text(), nullable=False, unique=True),
        sa.Column("display_name", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("role_bindings", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=False),
        sa.Column("create_time", TS, nullable=False),
        sa.Column("update_time", TS, nullable=False),
    )
    op.create_table(
        "principal_certificates",
        sa.Column("subject", sa.Text(), primary_key=True),
        sa.Column("principal_uid", UUID, sa.ForeignKey("principals.uid", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_principal_certificates_principal_uid", "principal_certificates", ["principal_uid"])
    op.create_table(
        "api_tokens",
        sa.Column("uid", UUID, primary_key=True),
        sa.Column("principal_uid", UUID, sa.ForeignKey("principals.uid", ondelete="CASCADE"), nullable=False),
        sa.Column("display_name", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(), nullable=False, unique=True),
        sa.Column("create_time", TS, nullable=False),
        sa.Column("expire_time", TS, nullable=True),
        sa.Column("revoke_time", TS, nullable=True),
    )
    op.create_index("ix_api_tokens_principal_uid", "api_tokens", ["principal_uid"])
    op.create_table(
        "audit_records",
        sa.Column("sequence", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("time", TS, nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("peer", sa.Text(), server_default=sa.text("''"), nullable=False),
    )
    op.create_index("audit_records_principal", "audit_records", ["principal", "sequence"])


def downgrade() -> None:
    for table in ("audit_records", "api_tokens", "principal_certificates", "principals"):
        op.drop_table(table)
