"""Benchmark: planning. ``plan_once`` for 1,000 participants in 10 projects on SQLite (the first
run plans two days, a second run finds nothing new), and ``carbot simulate`` for 200 people over
all of 2027 (the pure path: schedule and prompt choice, no database)."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.cli.simulate import simulate
from bot.engine.planner import plan_once
from bot.services import Services
from bot.settings import Settings
from storage.models import (
    Base,
    Delivery,
)
from tests.support.world import (
    EXPLORING,
    add_consent,
    add_identity,
    add_partnership,
    add_person,
    add_project,
    phases,
)

PEOPLE = 1_000
PROJECTS = 10
MONDAY = datetime(2027, 3, 22, tzinfo=UTC)


async def _populate(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        fife = await add_partnership(session, "fife", "Fife")
        projects = [
            (
                await add_project(
                    session,
                    f"project-{n}",
                    f"Project {n}",
                    partnership=fife,
                    cadence={"weekdays": ["mon", "tue", "thu"], "per_week": 2},
                    cycle=("c1", "Cycle 1", date(2027, 1, 4), date(2027, 12, 31)),
                    phases=phases((EXPLORING, date(2027, 1, 4), date(2027, 12, 31))),
                )
            ).project
            for n in range(PROJECTS)
        ]
        for n in range(PEOPLE):
            person = await add_person(
                session, f"p{n}", f"P{n:05d}", f"Person {n}", projects=[projects[n % PROJECTS]]
            )
            await add_identity(session, person, "webchat", f"w{n}")
            await add_consent(session, person, "webchat")


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
            async with services.engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            await _populate(services)
            started = time.perf_counter()
            first = await plan_once(services, MONDAY)
            first_seconds = time.perf_counter() - started
            started = time.perf_counter()
            again = await plan_once(services, MONDAY + timedelta(minutes=1))
            again_seconds = time.perf_counter() - started
            async with services.sessions() as session:
                rows = await session.scalar(select(func.count()).select_from(Delivery))
        finally:
            await services.close()
    lines.append(
        f"plan_once, {PEOPLE} people: {first} planned in {first_seconds:.2f} s; "
        f"again a minute later: {again} new in {again_seconds:.2f} s ({rows} rows)"
    )
    report = simulate(days=365, people=200, start=date(2027, 1, 1), seed=1)
    lines.append(
        f"simulate, 200 people over 2027: {report.prompts} prompts in {report.seconds:.1f} s, "
        f"rule breaches {report.violations()}"
    )
    return lines
