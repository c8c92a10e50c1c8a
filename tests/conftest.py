"""Shared fixtures.

- ``settings``: carbot settings pointing into a temp dir (SQLite database, outbox, data dir).
- ``services``: :class:`bot.services.Services` on a fresh SQLite database with the schema made.
- ``any_db_url`` / ``any_services``: the same on SQLite *and*, when ``CARBOT_TEST_POSTGRES_URL``
  is set, on a fresh PostgreSQL database made for the one test.

Under ``CI=true`` a skipped test fails the run: CI must run the PostgreSQL and browser tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.services import Services
from bot.settings import Settings, get_settings
from storage.models import Base

POSTGRES_URL = os.environ.get("CARBOT_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


requires_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="PostgreSQL tests need CARBOT_TEST_POSTGRES_URL (set by .ci/run)"
)
requires_chromium = pytest.mark.skipif(
    chromium_path() is None, reason="browser tests need Debian's chromium (installed by .ci/run)"
)


def make_settings(tmp_path: Path, database_url: str | None = None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url or f"sqlite+aiosqlite:///{tmp_path / 'carbot.db'}",
        "data_dir": tmp_path / "data",
        "outbox_dir": tmp_path / "outbox",
        "secret_key": "test-secret-key-not-for-production",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads the developer's .env or CARBOT_* variables by accident."""
    for name in list(os.environ):
        if name.startswith("CARBOT_") and name != "CARBOT_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


async def _create_schema(services: Services) -> None:
    async with services.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    services = Services.from_settings(settings)
    await _create_schema(services)
    yield services
    await services.close()


async def _postgres_admin(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    url = make_url(POSTGRES_URL)
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


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database; dropped afterwards."""
    name = f"carbot_test_{uuid.uuid4().hex[:12]}"
    await _postgres_admin(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        await _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database URL for one test."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need CARBOT_TEST_POSTGRES_URL (set by .ci/run)")
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database URL: SQLite, and PostgreSQL when configured."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'carbot.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need CARBOT_TEST_POSTGRES_URL (set by .ci/run)")
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def any_services(any_db_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    """Services with the schema made, on SQLite and (when configured) PostgreSQL."""
    services = Services.from_settings(make_settings(tmp_path, any_db_url))
    await _create_schema(services)
    yield services
    await services.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reasons = sorted({str(report.longrepr[-1]) for report in skipped if report.longrepr})
        print(f"\nCI=true: {len(skipped)} test(s) were skipped, which fails the run:")
        for reason in reasons:
            print(f"  - {reason}")
        session.exitstatus = 1
