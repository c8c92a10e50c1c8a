"""events: collaborative retreats and local events from the study file, and the projects taking
part in each

Revision ID: 0009
Revises: 0003
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0009"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('retreat', 'local-event')", name=op.f("ck_events_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("key", name=op.f("uq_events_key")),
    )
    op.create_table(
        "event_projects",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_projects_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_event_projects_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("event_id", "project_id", name=op.f("pk_event_projects")),
    )
    with op.batch_alter_table("event_projects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_projects_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("event_projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_projects_project_id"))
    op.drop_table("event_projects")
    op.drop_table("events")
