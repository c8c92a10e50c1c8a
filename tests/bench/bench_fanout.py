"""Benchmark: prompts due at one instant, through what ``carbot run`` runs.

N participants with Telegram chats, one project whose cadence sends at 10:00 on Tuesdays. The
planner plans the prompts (``plan_once`` before 10:00), then the scheduler runs as ``carbot run``
starts it — :class:`bot.engine.jobs.Jobs` with its engine tick and its sending loop — with the
real python-telegram-bot channel built by carbot's wiring (``telegram_channel(settings)``, its
poller lock included) against the fake Bot API in a process of its own on loopback, which
enforces 30 messages a second overall and one a second per chat, answering 429 with
``retry_after`` past them. The clock is real time, started a few seconds before 10:00.

Measured: time from 10:00 to the fake's last delivered message ÷ (N ÷ 30 s) (target ≤ 1.10),
the fake's 429s, chats that got a message twice, prompts not delivered, and the worker
process's resident memory (peak, sampled). One worker on SQLite; two workers on PostgreSQL (two
``Jobs`` in this process, each with its own engine, pool, channel and pacing — as two processes
would have — sharing only the database). Each scenario has a hard time limit.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from adapters.base import InboundMessage, InboundResult
from bot.channels.telegram import telegram_channel
from bot.clock import ScaledClock
from bot.engine.jobs import Jobs
from bot.engine.planner import plan_once
from bot.services import Services
from storage.models import (
    Base,
    ChannelIdentity,
    ConsentRecord,
    Cycle,
    Delivery,
    Membership,
    Partnership,
    Person,
    Phase,
    Project,
)
from tests.conftest import POSTGRES_URL, fresh_postgres_database, make_settings
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI, fake_stats

PER_SECOND = 30
DUE = datetime(2027, 3, 9, 10, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Fife (GMT)
LEAD = 4.0  # seconds of real time between the scheduler starting and 10:00
CADENCE = {"weekdays": ["tue"], "per_week": 1, "at": "10:00"}
SIZES = tuple(int(n) for n in os.environ.get("CARBOT_BENCH_FANOUT", "1000,10000").split(","))


def rss_mb() -> tuple[float, float]:
    """This process's resident memory now and at its peak, in MB (Linux /proc)."""
    fields: dict[str, float] = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


async def populate(
    services: Services,
    people: int,
    *,
    projects: int = 1,
    cadence: dict[str, Any] | None = None,
    channel: str = "telegram",
    workspace: str = "",
) -> None:
    """A partnership, ``projects`` projects in their exploring-evidence phase, ``people``
    participants (spread over the projects) with consent and a chat each (bulk inserts: the
    setup is not what is measured)."""
    async with services.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with services.sessions() as session, session.begin():
        partnership = Partnership(slug="fife", name="Fife", timezone="Europe/London")
        made = []
        for n in range(projects):
            project = Project(
                partnership=partnership,
                slug=f"project-{n}",
                name=f"Project {n}",
                cadence=cadence or CADENCE,
            )
            cycle = Cycle(
                project=project,
                key="c1",
                name="Cycle 1",
                starts_on=date(2027, 1, 4),
                ends_on=date(2027, 12, 31),
            )
            cycle.phases = [
                Phase(
                    key="exploring-evidence",
                    name="Exploring evidence",
                    starts_on=date(2027, 1, 4),
                    ends_on=date(2027, 12, 31),
                )
            ]
            made.append(project)
        session.add_all(made)
        await session.flush()
        project_ids = [project.id for project in made]
        linked = DUE - timedelta(days=30)
        for start in range(0, people, 2000):
            numbers = range(start, min(people, start + 2000))
            ids = list(
                await session.scalars(
                    insert(Person).returning(Person.id),
                    [
                        {"key": f"p{n}", "study_code": f"P{n:05d}", "name": f"P {n}"}
                        for n in numbers
                    ],
                )
            )
            pairs = list(zip(ids, numbers, strict=True))
            await session.execute(
                insert(Membership),
                [
                    {"person_id": i, "project_id": project_ids[n % projects], "role": "participant"}
                    for i, n in pairs
                ],
            )
            await session.execute(
                insert(ChannelIdentity),
                [
                    {
                        "person_id": i,
                        "channel": channel,
                        "external_id": str(500_000 + n),
                        "workspace": workspace,
                        "linked_at": linked,
                    }
                    for i, n in pairs
                ],
            )
            await session.execute(
                insert(ConsentRecord),
                [
                    {
                        "person_id": i,
                        "version": "1",
                        "text_sha256": "0" * 64,
                        "channel": channel,
                        "given_at": linked,
                    }
                    for i in ids
                ],
            )


async def _ignore(message: InboundMessage) -> InboundResult:
    return InboundResult()


async def count_sent(services: Services) -> int:
    async with services.sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.sent_at.is_not(None))
            )
            or 0
        )


@asynccontextmanager
async def _database(kind: str) -> AsyncIterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'carbot.db'}"
    else:
        async with fresh_postgres_database() as url:
            yield url


async def scenario(kind: str, people: int, workers: int) -> dict[str, Any]:
    floor = people / PER_SECOND
    limit = floor * 2 + 120  # the hard limit for the sending, beyond setup
    peak = 0.0
    async with _database(kind) as url:
        with (
            tempfile.TemporaryDirectory() as folder,
            FakeTelegramAPI.in_subprocess(per_second=PER_SECOND, per_chat_interval=1.0) as base,
        ):
            settings = [
                make_settings(
                    Path(folder) / f"w{n}",
                    url,
                    telegram_token=TOKEN,
                    telegram_api_base_url=base,
                    dispatch_lease_seconds=120,
                )
                for n in range(workers)
            ]
            pool = [Services.from_settings(s) for s in settings]
            jobs: list[Jobs] = []
            channels = []
            try:
                await populate(pool[0], people)
                started = time.perf_counter()
                planned = await plan_once(pool[0], DUE - timedelta(minutes=5))
                plan_seconds = time.perf_counter() - started
                clock = ScaledClock(start=DUE - timedelta(seconds=LEAD))
                due_wall = time.time() + LEAD
                for n, services in enumerate(pool):
                    channel = telegram_channel(services.settings)
                    assert channel is not None
                    await channel.start(_ignore)
                    channels.append(channel)
                    job = Jobs(services.with_clock(clock), {"telegram": channel}, worker=f"w{n}")
                    job.start()
                    jobs.append(job)
                deadline = time.monotonic() + LEAD + limit
                sent = 0
                while time.monotonic() < deadline:
                    peak = max(peak, rss_mb()[0])
                    sent = await count_sent(pool[0])
                    if sent >= planned:
                        break
                    await asyncio.sleep(0.5)
                leaders = [job.worker for job in jobs if job.leading]
                limiters = [c.application.bot.rate_limiter for c in channels]
                trips = sum(getattr(r, "round_trips", 0) for r in limiters)
                trip_seconds = sum(getattr(r, "round_trip_seconds", 0.0) for r in limiters)
            finally:
                for job in jobs:
                    await job.stop()
                for channel in channels:
                    await channel.stop()
                for services in pool:
                    await services.close()
            stats = await fake_stats(base)
    last = stats["last_at"] or time.time()
    return {
        "kind": kind,
        "people": people,
        "workers": workers,
        "planned": planned,
        "plan_seconds": plan_seconds,
        "seconds": last - due_wall,
        "ratio": (last - due_wall) / floor,
        "first_after": (stats["first_at"] or last) - due_wall,
        "too_many": stats["too_many_requests"],
        "duplicates": stats["duplicates"],
        "lost": planned - stats["chats"],
        "rows_sent": sent,
        "timed_out": sent < planned,
        "rss_peak_mb": peak,
        "hwm_mb": rss_mb()[1],
        "leaders": leaders,
        "round_trip_ms": 1000 * trip_seconds / max(1, trips),
    }


def line(result: dict[str, Any]) -> str:
    where = "SQLite, 1 worker " if result["kind"] == "sqlite" else "PostgreSQL, 2 workers"
    verdict = "ok" if result["ratio"] <= 1.10 and not result["too_many"] else "MISSED"
    return (
        f"{where} {result['people']:>6} due: last send {result['seconds']:7.1f} s after due = "
        f"{result['ratio']:.3f} × floor ({verdict}); first {result['first_after']:.2f} s; "
        f"{result['too_many']} × 429, {result['duplicates']} duplicates, {result['lost']} lost"
        f"{' (TIMED OUT)' if result['timed_out'] else ''}; "
        f"planned in {result['plan_seconds']:.1f} s; "
        f"worker RSS peak {result['rss_peak_mb']:.0f} MB; sender {','.join(result['leaders'])}; "
        f"mean round trip {result['round_trip_ms']:.0f} ms"
    )


async def main() -> list[str]:
    lines = [
        f"fake Bot API enforcing {PER_SECOND} msg/s overall and 1 msg/s per chat; "
        f"floor = N ÷ {PER_SECOND} s; target ≤ 1.10 × floor, no 429"
    ]
    for people in SIZES:
        runs = [("sqlite", 1)] + ([("postgresql", 2)] if POSTGRES_URL else [])
        for kind, workers in runs:
            # a hard limit on the whole scenario (setup included); the sending has its own
            async with asyncio.timeout(people / PER_SECOND * 2 + 900):
                result = await scenario(kind, people, workers)
            lines.append(line(result))
            print("  " + lines[-1], flush=True)
        if not POSTGRES_URL:
            lines.append("PostgreSQL: skipped (CARBOT_TEST_POSTGRES_URL is not set)")
    return lines
