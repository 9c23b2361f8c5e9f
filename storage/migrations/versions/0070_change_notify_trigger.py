"""Every change row announces itself: an AFTER INSERT trigger sends the NOTIFY that wakes Watch and the reconciler.

Revision ID: 0070
Revises: 0060
Create Date: 2026-11-22

Writers used to attach `RETURNING pg_notify(...)` to each INSERT INTO changes, so every way of inserting a
change (a plain insert, a CTE riding on a create, a batch) had to remember it. In the table itself it
cannot be forgotten. The payload is the change's kind, so a listener can ignore kinds it has no work for;
PostgreSQL delivers identical notifications of one transaction once, at commit.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0070"
down_revision: str | None = "0060"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION harrow_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('harrow_changes', NEW.kind);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER changes_notify AFTER INSERT ON changes FOR EACH ROW EXECUTE FUNCTION harrow_notify_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER changes_notify ON changes")
    op.execute("DROP FUNCTION harrow_notify_change()")
