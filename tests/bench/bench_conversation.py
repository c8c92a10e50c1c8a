"""Benchmark: the conversation core on SQLite — answers in, each committed before its reply.

200 participants each have an open prompt. Every one answers it (a tap on a scale), then sends a
follow-up sentence; each event is then redelivered once, as a platform would after a lost ack.
Reported: handled events per second, the latency of one ``Conversation.handle`` (median and
95th percentile), with 1 and with 8 events in flight, and that every answer was stored once.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from adapters.base import InboundMessage
from bot.clock import FrozenClock
from bot.core.conversation import Conversation
from bot.services import Services
from storage.models import Base, Reflection
from tests.conftest import make_settings
from tests.support.participants import make_delivery, make_person, make_project

PEOPLE = 200
NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)


async def _world(services: Services) -> list[tuple[str, int]]:
    async with services.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    people = []
    async with services.sessions() as session, session.begin():
        rows = await make_project(session, today=NOW.date())
        for n in range(PEOPLE):
            person, identity = await make_person(
                session, rows.project, name=f"Person {n}", external_id=f"bench-{n}", now=NOW
            )
            delivery = await make_delivery(
                session, person, rows, sent_at=NOW - timedelta(hours=1), kind="scale"
            )
            people.append((identity.external_id, delivery.id))
    return people


def _messages(people: list[tuple[str, int]]) -> list[InboundMessage]:
    taps = [
        InboundMessage("webchat", f"tap-{who}", who, NOW, choice="4", delivery_id=delivery)
        for who, delivery in people
    ]
    words = [
        InboundMessage("webchat", f"text-{who}", who, NOW, text="The room was busier this week")
        for who, _ in people
    ]
    return taps + words


async def _run(in_flight: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        services = Services.from_settings(make_settings(Path(tmp)))
        try:
            people = await _world(services)
            conversation = Conversation(services.with_clock(FrozenClock(NOW)))
            messages = _messages(people)
            gate = asyncio.Semaphore(in_flight)
            latencies: list[float] = []
            duplicates = 0

            async def one(message: InboundMessage) -> None:
                nonlocal duplicates
                async with gate:
                    started = time.perf_counter()
                    result = await conversation.handle(message)
                    latencies.append(time.perf_counter() - started)
                    duplicates += result.duplicate

            started = time.perf_counter()
            for batch in (messages, messages):  # every event, then every event again
                # taps before texts for each person: the follow-up joins the tapped answer
                half = len(batch) // 2
                await asyncio.gather(*(one(m) for m in batch[:half]))
                await asyncio.gather(*(one(m) for m in batch[half:]))
            elapsed = time.perf_counter() - started
            async with services.sessions() as session:
                stored = await session.scalar(select(func.count()).select_from(Reflection))
        finally:
            await services.close()
    events = len(messages) * 2
    p95 = statistics.quantiles(latencies, n=20)[-1]
    return [
        f"{in_flight} in flight: {events} events in {elapsed:.2f} s = {events / elapsed:.0f}/s; "
        f"handle median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms",
        f"  stored {stored} reflections for {len(messages)} distinct events "
        f"(expected {len(messages)}); {duplicates} redeliveries recognised "
        f"(expected {len(messages)})",
    ]


async def main() -> list[str]:
    return [*(await _run(1)), *(await _run(8))]
