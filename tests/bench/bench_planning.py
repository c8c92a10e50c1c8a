"""Benchmark: planning. The engine tick's planner (:class:`bot.engine.watermark.Planner`, what
``carbot run`` calls every minute) for 10,000 participants in 10 projects on SQLite: the first
tick plans two days; the next sees its own new rows, so it runs in full and finds nothing new;
the one after has nothing new and no slot entering the horizon (the watermark). Then resident
memory, and where the first tick's memory goes (tracemalloc, top lines). And ``carbot simulate``
for 200 people over all of 2027 (the pure path: schedule and prompt choice, no database)."""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.cli.simulate import simulate
from bot.engine.watermark import Planner
from bot.services import Services
from bot.settings import Settings
from storage.models import (
    Delivery,
)
from tests.bench.bench_fanout import populate, rss_mb

PEOPLE = int(os.environ.get("CARBOT_BENCH_PEOPLE", "10000"))
PROJECTS = 10
MONDAY = datetime(2027, 3, 22, tzinfo=UTC)


async def _populate(services: Services) -> None:
    await populate(
        services,
        PEOPLE,
        projects=PROJECTS,
        cadence={"weekdays": ["mon", "tue", "thu"], "per_week": 2},
        channel="webchat",
    )


async def main() -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            data_dir=Path(tmp) / "data",
        )
        services = Services.from_settings(settings)
        try:
            await _populate(services)
            planner = Planner(services)
            tracing = bool(os.environ.get("CARBOT_BENCH_TRACEMALLOC"))
            if tracing:
                tracemalloc.start()
            ticks = []
            for minute in range(3):
                started = time.perf_counter()
                planned = await planner.plan(MONDAY + timedelta(minutes=minute))
                ticks.append((planned, time.perf_counter() - started))
                if tracing and minute == 0:
                    snapshot = tracemalloc.take_snapshot()
                    tracemalloc.stop()
            async with services.sessions() as session:
                rows = await session.scalar(select(func.count()).select_from(Delivery))
        finally:
            await services.close()
    (first, first_s), (second, second_s), (third, third_s) = ticks
    lines.append(
        f"engine tick's planner, {PEOPLE} people on SQLite: first tick {first} planned in "
        f"{first_s:.2f} s (target ≤ 10 s); next tick (its own new rows: a full run) {second} new "
        f"in {second_s:.2f} s; a tick with nothing new {third} in {third_s:.3f} s "
        f"(target ≤ 1 s); {rows} rows"
    )
    now, peak = rss_mb()
    lines.append(f"resident memory after planning: {now:.0f} MB (peak {peak:.0f} MB)")
    if tracing:
        for stat in snapshot.statistics("lineno")[:8]:
            lines.append(f"  tracemalloc: {stat.size / 1e6:6.1f} MB  {stat.traceback}")
    report = simulate(days=365, people=200, start=date(2027, 1, 1), seed=1)
    lines.append(
        f"simulate, 200 people over 2027: {report.prompts} prompts in {report.seconds:.1f} s, "
        f"rule breaches {report.violations()}"
    )
    return lines
