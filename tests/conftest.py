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
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest

from bot.services import Services
from bot.settings import Settings
from tests.support.environment import without_carbot_environment
from tests.support.schema import (
    create_schema,
    database_url,
    postgres_admin,
    postgres_template,
    remove_templates,
)

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
def _isolated_settings() -> Iterator[None]:
    """No test reads the developer's .env or CARBOT_* variables by accident."""
    with without_carbot_environment():
        yield


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


async def _create_schema(services: Services) -> None:
    await create_schema(services.engine)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    services = Services.from_settings(settings)
    await _create_schema(services)
    yield services
    await services.close()


async def _postgres_admin(sql: str) -> None:
    await postgres_admin(POSTGRES_URL, sql)


@asynccontextmanager
async def fresh_postgres_database(*, with_schema: bool = False) -> AsyncIterator[str]:
    """A new PostgreSQL database, empty or (``with_schema``) holding carbot's schema as
    ``create_all`` makes it; dropped afterwards."""
    name = f"carbot_test_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{await postgres_template(POSTGRES_URL)}"' if with_schema else ""
    await _postgres_admin(f'CREATE DATABASE "{name}"{template}')
    try:
        yield database_url(POSTGRES_URL, name)
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
def database_kind(request: pytest.FixtureRequest) -> str:
    """Which database a test runs on: SQLite, and PostgreSQL when configured."""
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need CARBOT_TEST_POSTGRES_URL (set by .ci/run)")
    return str(request.param)


@pytest.fixture
async def any_db_url(database_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database URL: SQLite, and PostgreSQL when configured."""
    if database_kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'carbot.db'}"
        return
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def any_services(database_kind: str, tmp_path: Path) -> AsyncIterator[Services]:
    """Services with the schema made, on SQLite and (when configured) PostgreSQL."""
    async with AsyncExitStack() as stack:
        url = None
        if database_kind == "postgres":
            url = await stack.enter_async_context(fresh_postgres_database(with_schema=True))
        services = Services.from_settings(make_settings(tmp_path, url))
        stack.push_async_callback(services.close)
        if url is None:
            await _create_schema(services)  # a PostgreSQL copy of the template has it already
        yield services


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    remove_templates()
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
