"""Fresh databases with carbot's schema, made once per test run and copied for each test.

``Base.metadata.create_all`` costs a fifth of a second on SQLite and most of a second on
PostgreSQL, and a thousand tests want a fresh schema each. So the schema is made once per run —
a SQLite file, a PostgreSQL template database — and each test gets a copy: a file copy, or
``CREATE DATABASE … TEMPLATE``. A copy is the very database ``create_all`` would have made.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.files import FILE_MODE
from storage.models import Base

_sqlite_template: Path | None = None
_postgres_templates: dict[str, str] = {}  # server URL -> template database name


async def create_schema(engine: AsyncEngine) -> None:
    """Give ``engine``'s database carbot's schema: copied from the run's template when the
    database is a SQLite file nobody has opened yet, made with ``create_all`` otherwise."""
    database = make_url(str(engine.url)).database
    if engine.dialect.name == "sqlite" and database and _never_opened(Path(database)):
        shutil.copyfile(await _sqlite_schema_file(), database)
        os.chmod(database, FILE_MODE)
        return
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


def _never_opened(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return (not path.exists() or path.stat().st_size == 0) and not wal.exists()


async def _sqlite_schema_file() -> Path:
    global _sqlite_template
    if _sqlite_template is None:
        folder = Path(tempfile.mkdtemp(prefix="carbot-schema-"))
        made = folder / "schema.db"
        engine = create_engine(f"sqlite+aiosqlite:///{made}")
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        await engine.dispose()  # the last connection out folds the WAL back into the file
        assert not made.with_name("schema.db-wal").exists(), "the template must be one file"
        _sqlite_template = made
    return _sqlite_template


async def postgres_admin(server_url: str, sql: str) -> None:
    """Run one statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    import asyncpg  # type: ignore[import-untyped]

    url = make_url(server_url)
    connection = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def database_url(server_url: str, name: str) -> str:
    url = make_url(server_url).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


async def postgres_template(server_url: str) -> str:
    """The name of this run's PostgreSQL database holding the schema, made on first use."""
    if server_url not in _postgres_templates:
        name = f"carbot_schema_{uuid.uuid4().hex[:12]}"
        await postgres_admin(server_url, f'CREATE DATABASE "{name}"')
        engine = create_engine(database_url(server_url, name))
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        await engine.dispose()  # a template may have no one connected while it is copied
        _postgres_templates[server_url] = name
    return _postgres_templates[server_url]


def remove_templates() -> None:
    """Drop what :func:`postgres_template` and :func:`create_schema` made (end of the run)."""
    for server_url, name in _postgres_templates.items():
        asyncio.run(postgres_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    _postgres_templates.clear()
    if _sqlite_template is not None:
        shutil.rmtree(_sqlite_template.parent, ignore_errors=True)
