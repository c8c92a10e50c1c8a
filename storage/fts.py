"""Full-text search over reflections, on SQLite (FTS5) and PostgreSQL (``to_tsvector``).

The objects live outside ``storage.models`` because they are dialect-specific:

- SQLite: an external-content FTS5 table ``reflections_fts`` (``porter unicode61``, diacritics
  folded, so "Sgìre" matches "sgire") kept in step with ``reflections.text`` by three triggers;
- PostgreSQL: a GIN index on ``to_tsvector('english', text)``; queries use the same expression.

Migration ``0002_fulltext`` creates them; :func:`ensure_fulltext` does the same, idempotently, for
databases made with ``Base.metadata.create_all`` (tests, tools). ``include_name`` keeps them out
of Alembic's autogenerate comparison.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import ColumnElement, column, func, literal_column, select, table, text
from sqlalchemy.engine import Connection

logger = logging.getLogger(__name__)

FTS_TABLE = "reflections_fts"
PG_INDEX = "ix_reflections_text_fts"
PG_CONFIG = "english"

SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "text, content='reflections', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON reflections BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, text) VALUES (new.id, new.text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON reflections BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) VALUES ('delete', old.id, old.text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF text ON reflections BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) VALUES ('delete', old.id, old.text); "
    f"INSERT INTO {FTS_TABLE}(rowid, text) VALUES (new.id, new.text); END",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ai",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ad",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]
POSTGRES_CREATE = [
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON reflections "
    f"USING gin (to_tsvector('{PG_CONFIG}', text))",
]
POSTGRES_DROP = [f"DROP INDEX IF EXISTS {PG_INDEX}"]


def create_statements(dialect: str) -> list[str]:
    return SQLITE_CREATE if dialect == "sqlite" else POSTGRES_CREATE


def drop_statements(dialect: str) -> list[str]:
    return SQLITE_DROP if dialect == "sqlite" else POSTGRES_DROP


def has_fulltext(connection: Connection) -> bool:
    if connection.dialect.name == "sqlite":
        found = connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE type='table' AND name=:name"),
            {"name": FTS_TABLE},
        ).first()
    else:
        found = connection.execute(
            text("SELECT 1 FROM pg_indexes WHERE indexname=:name"), {"name": PG_INDEX}
        ).first()
    return found is not None


def ensure_fulltext(connection: Connection) -> bool:
    """Create the full-text objects when missing (filled from existing rows); True if made."""
    if has_fulltext(connection):
        return False
    for statement in create_statements(connection.dialect.name):
        connection.execute(text(statement))
    logger.info("full-text search objects created", extra={"action": "fts_created"})
    return True


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: leave the full-text objects out of autogenerate."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(FTS_TABLE):
        return False
    return not (type_ == "index" and name == PG_INDEX)


_WORD = re.compile(r"\w+", re.UNICODE)


def words(query: str) -> list[str]:
    """The searchable words of what a person typed (punctuation and operators dropped)."""
    return _WORD.findall(query)


def match_clause(dialect: str, query: str, id_column: Any, text_column: Any) -> ColumnElement[bool]:
    """A WHERE clause: the row's text contains every word of ``query``."""
    terms = words(query)
    if not terms:
        return literal_column("1") == literal_column("1")
    if dialect == "sqlite":
        fts = table(FTS_TABLE, column("rowid"))
        expression = " ".join(f'"{term}"' for term in terms)
        matching = select(fts.c.rowid).where(text(f"{FTS_TABLE} MATCH :fts_query"))
        return id_column.in_(matching.params(fts_query=expression))
    return func.to_tsvector(literal_column(f"'{PG_CONFIG}'"), text_column).op("@@")(
        func.plainto_tsquery(literal_column(f"'{PG_CONFIG}'"), " ".join(terms))
    )
