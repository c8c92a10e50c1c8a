"""No test reads the developer's .env or CARBOT_* variables by accident."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.settings import get_settings


@contextmanager
def without_carbot_environment() -> Iterator[None]:
    """No CARBOT_* variable (the test PostgreSQL URL aside) nor DATABASE_URL reaches settings
    made inside the block: the suite's autouse fixture for each test, and the fixtures that make
    settings for a whole module."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("CARBOT_") and name != "CARBOT_TEST_POSTGRES_URL":
                patch.delenv(name)
        patch.delenv("DATABASE_URL", raising=False)
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()
