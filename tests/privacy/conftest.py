from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.services import Services
from tests.privacy.world import Privacy, build
from tests.review.conftest import DATABASES, shared_database


@pytest.fixture
async def privacy(any_services: Services) -> Privacy:
    """Ailsa, Ruairidh and all they left, on SQLite and (when configured) PostgreSQL."""
    return await build(any_services)


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def module_privacy(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Privacy]:
    """The same, built once per module and database for tests that only read it: its
    ``services`` are closed; use ``read_only_privacy``."""
    async with shared_database(request, tmp_path_factory.mktemp("privacy")) as settings:
        services = Services.from_settings(settings)
        try:
            privacy = await build(services)
        finally:
            await services.close()
        yield privacy


@pytest.fixture
async def read_only_privacy(module_privacy: Privacy) -> AsyncIterator[Privacy]:
    """The module's Ailsa and Ruairidh on services of this test's own."""
    services = Services.from_settings(module_privacy.services.settings)
    yield dataclasses.replace(module_privacy, services=services)
    await services.close()
