from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.core.conversation import Conversation
from bot.services import Services
from storage.models import ChannelIdentity, Person
from tests.support.participants import ProjectRows, make_participant
from tests.support.transcript import TranscriptChannel

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)  # a Tuesday, in the "Exploring evidence" phase


@dataclass
class World:
    services: Services
    clock: FrozenClock
    channel: TranscriptChannel
    rows: ProjectRows
    person: Person
    identity: ChannelIdentity

    @property
    def who(self) -> str:
        return self.identity.external_id

    async def count(self, model: type) -> int:
        async with self.services.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    async def all(self, model: type) -> list:  # type: ignore[type-arg]
        async with self.services.sessions() as session:
            return list(await session.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]

    async def get(self, model: type, pk: int):  # type: ignore[no-untyped-def]
        async with self.services.sessions() as session:
            return await session.get(model, pk)


async def build_world(services: Services) -> World:
    clock = FrozenClock(NOW)
    channel = TranscriptChannel()
    await channel.start(Conversation(services.with_clock(clock)).handle)
    async with services.sessions() as session, session.begin():
        rows, person, identity = await make_participant(session, now=NOW)
    return World(services, clock, channel, rows, person, identity)


@pytest.fixture
async def world(services: Services) -> World:
    """A participant in a project, on SQLite."""
    return await build_world(services)


@pytest.fixture
async def any_world(any_services: Services) -> World:
    """The same on SQLite and, when configured, PostgreSQL (for the database-sensitive tests)."""
    return await build_world(any_services)
