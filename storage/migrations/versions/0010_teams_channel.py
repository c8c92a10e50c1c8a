"""a chat identity may be on Microsoft Teams (``channel = 'teams'``)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "channel IN ('webchat', 'telegram', 'slack')"
AFTER = "channel IN ('webchat', 'telegram', 'slack', 'teams')"


def upgrade() -> None:
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_channel_identities_channel"), type_="check")
        batch_op.create_check_constraint(op.f("ck_channel_identities_channel"), AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM channel_identities WHERE channel = 'teams'")
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_channel_identities_channel"), type_="check")
        batch_op.create_check_constraint(op.f("ck_channel_identities_channel"), BEFORE)
