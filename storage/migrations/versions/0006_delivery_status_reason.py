"""deliveries: why and when each last changed state (status_reason, status_at), so a prompt
called off for a reason later taken back can be planned again

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-03 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_reason", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("status_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("status_at")
        batch_op.drop_column("status_reason")
