"""The things every part of carbot needs at run time, built once from the settings."""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.settings import Settings
from storage.db import create_engine, session_factory
from storage.files import create_private_once


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=SystemClock)  # "now" for everything carbot does

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock | None = None) -> Services:
        engine = create_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            clock=clock or SystemClock(),
        )

    def with_clock(self, clock: Clock) -> Services:
        """The same services (one engine, one pool) seeing time through ``clock``."""
        return dataclasses.replace(self, clock=clock)

    async def close(self) -> None:
        await self.engine.dispose()

    def secret_key(self) -> str:
        """The signing key: the setting, or one made once and kept in the data directory."""
        if self.settings.secret_key is not None:
            return self.settings.secret_key.get_secret_value()
        path = Path(self.settings.data_dir) / "secret_key"
        # Every worker must sign with the same key: the first to start makes it, the rest read it.
        return create_private_once(path, secrets.token_urlsafe(48).encode()).decode().strip()
