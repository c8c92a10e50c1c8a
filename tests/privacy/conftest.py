from __future__ import annotations

import pytest

from bot.services import Services
from tests.privacy.world import Privacy, build


@pytest.fixture
async def privacy(any_services: Services) -> Privacy:
    """Ailsa, Ruairidh and all they left, on SQLite and (when configured) PostgreSQL."""
    return await build(any_services)
