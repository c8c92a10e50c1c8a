"""full-text search over reflections (SQLite FTS5 table + triggers, PostgreSQL GIN index)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:20:00

Hand-written: the objects are dialect-specific and live outside storage.models (see
storage/fts.py, whose ``include_name`` keeps them out of autogenerate).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage import fts

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in fts.create_statements(dialect):
        op.execute(sa.text(statement))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in fts.drop_statements(dialect):
        op.execute(sa.text(statement))
