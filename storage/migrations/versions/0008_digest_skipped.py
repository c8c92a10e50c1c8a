"""a digest deliberately not sent (an empty week with ``empty_week: skip``) is recorded as
``skipped``, so that no worker builds it again

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "status IN ('pending', 'sending', 'sent', 'failed')"
AFTER = "status IN ('pending', 'sending', 'sent', 'failed', 'skipped')"


def upgrade() -> None:
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_digests_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_digests_status"), AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM digests WHERE status = 'skipped'")
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_digests_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_digests_status"), BEFORE)
