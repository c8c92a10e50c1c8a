"""Two dispatchers sharing one database send every due delivery exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from adapters.base import OutboundPrompt, OutboundText, Recipient
from bot.engine.dispatch import dispatch_once
from bot.services import Services
from storage.db import transaction
from storage.models import Delivery
from tests.conftest import make_settings, requires_postgres
from tests.engine.world import TUESDAY_MORNING, World, make_world
from tests.support.schema import create_schema
from tests.support.transcript import TranscriptChannel

NOW = TUESDAY_MORNING


async def schema(services: Services) -> None:
    await create_schema(services.engine)


async def plan_many(services: Services, world: World, count: int) -> None:
    per_person = -(-count // len(world.people))
    rows = [
        {
            "person_id": person,
            "project_id": world.project_id,
            "slot": NOW - timedelta(minutes=n),
            "due_at": NOW - timedelta(minutes=n),
            "phase_id": world.phase_id,
            "cycle_id": world.cycle_id,
            "prompt_key": "exploring.what-happened",
            "prompt_kind": "text",
            "prompt_text": "What happened at the hub this week that surprised you?",
            "prompt_options": [],
            "status": "planned",
            "attempts": 0,
            "snoozed": False,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for person in world.people
        for n in range(per_person)
    ][:count]
    async with transaction(services.sessions) as session:
        await session.execute(insert(Delivery), rows)


def interleaving() -> TranscriptChannel:
    async def yield_now(_to: Recipient, _message: OutboundPrompt | OutboundText) -> None:
        await asyncio.sleep(0)  # a platform call: let the other worker run meanwhile

    return TranscriptChannel(on_send=yield_now)


async def drain(services: Services, channel: TranscriptChannel, worker: str) -> int:
    total = 0
    while True:
        sent = await dispatch_once(services, {"webchat": channel}, NOW, worker=worker, limit=25)
        total += sent
        if sent == 0:
            async with services.sessions() as session:
                left = await session.scalar(
                    select(func.count()).where(Delivery.status.in_(("planned", "sending")))
                )
            if not left:
                return total
            await asyncio.sleep(0.01)


async def two_dispatchers_share(url: str, tmp_path: Path, count: int) -> None:
    first = Services.from_settings(make_settings(tmp_path, url))
    second = Services.from_settings(make_settings(tmp_path, url))  # its own engine and pool
    try:
        await schema(first)
        world = await make_world(first, people=50)
        await plan_many(first, world, count)
        channels = interleaving(), interleaving()

        totals = await asyncio.gather(
            drain(first, channels[0], "worker-a"), drain(second, channels[1], "worker-b")
        )

        sent = Counter(p.delivery_id for channel in channels for p in channel.prompts)
        assert len(sent) == count
        assert set(sent.values()) == {1}
        assert sum(totals) == count
        async with first.sessions() as session:
            rows = await session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            )
            statuses = {status: n for status, n in rows}
        assert statuses == {"sent": count}
        print(f"worker-a sent {totals[0]}, worker-b sent {totals[1]}")
    finally:
        await first.close()
        await second.close()


@requires_postgres
async def test_two_dispatchers_on_postgresql_send_each_of_1000_due_deliveries_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    await two_dispatchers_share(postgres_url, tmp_path, 1000)


async def test_two_dispatchers_on_one_sqlite_file_send_each_delivery_exactly_once(
    tmp_path: Path,
) -> None:
    await two_dispatchers_share(f"sqlite+aiosqlite:///{tmp_path / 'carbot.db'}", tmp_path, 200)
