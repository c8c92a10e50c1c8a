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

PEOPLE = int(__import__("os").environ.get("CARBOT_BENCH_PEOPLE", "10000"))
PROJECTS = 10
MONDAY = datetime(2027, 3, 22, tzinfo=UTC)


async def _populate(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        partnership = Partnership(slug="fife", name="Fife")
        projects = []
        for n in range(PROJECTS):
            project = Project(
                partnership=partnership,
                slug=f"project-{n}",
                name=f"Project {n}",
                cadence={"weekdays": ["mon", "tue", "thu"], "per_week": 2},
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
            projects.append(project)
        session.add_all(projects)
        await session.flush()
        for n in range(PEOPLE):
            person = Person(key=f"p{n}", study_code=f"P{n:05d}", name=f"Person {n}")
            session.add(person)
            await session.flush()
            session.add_all(
                [
                    Membership(
                        person_id=person.id,
                        project_id=projects[n % PROJECTS].id,
                        role="participant",
                    ),
                    ChannelIdentity(person_id=person.id, channel="webchat", external_id=f"w{n}"),
                    ConsentRecord(
                        person_id=person.id, version="1", text_sha256="0" * 64, channel="webchat"
                    ),
                ]
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
