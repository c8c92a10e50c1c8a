"""``carbot simulate``: the planner over simulated time, with nothing sent, and a report.

By default the pure path runs (``prompts.simulation``: the schedule and prompt choice in memory,
fast enough for a year of 200 people). ``--database`` runs the real ``plan_once`` against a
temporary SQLite database instead, with the generated people and projects written as rows and
each due prompt marked sent as simulated time passes.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import tempfile
import time as timer
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import click
from sqlalchemy import select

from bot.engine.deliveries import move_many
from bot.engine.planner import plan_once
from bot.services import Services
from bot.settings import Settings
from prompts.library import load_library
from prompts.simulation import (
    Audit,
    Report,
    SimPerson,
    SimProject,
    generate,
    simulate,
    simulated_cost,
)
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
    Study,
)

__all__ = ["simulate", "simulate_command", "simulate_database"]


def _cycles(project: SimProject) -> list[Cycle]:
    """The project's phases as cycles: a new cycle each time the model starts again."""
    cycles: list[Cycle] = []
    first_key = project.phases[0][0]
    for key, starts_on, ends_on in project.phases:
        if key == first_key:
            cycles.append(
                Cycle(
                    key=f"cycle-{len(cycles) + 1}",
                    name=f"Cycle {len(cycles) + 1}",
                    position=len(cycles),
                    starts_on=starts_on,
                    ends_on=ends_on,
                )
            )
        cycle = cycles[-1]
        cycle.ends_on = ends_on
        cycle.phases.append(
            Phase(
                key=key,
                name=key.replace("-", " ").capitalize(),
                position=len(cycle.phases),
                starts_on=starts_on,
                ends_on=ends_on,
            )
        )
    return cycles


async def _write(
    services: Services,
    projects: list[SimProject],
    persons: list[SimPerson],
    time_budget_minutes: int | None = None,
) -> None:
    async with services.sessions() as session, session.begin():
        session.add(
            Study(
                slug="simulated",
                name="Simulated study",
                options={"time_budget_minutes": time_budget_minutes},
            )
        )
        partnership = Partnership(slug="simulated", name="Simulated partnership")
        rows: dict[str, Project] = {}
        for project in projects:
            rows[project.slug] = Project(
                partnership=partnership,
                slug=project.slug,
                name=project.slug,
                cadence=project.cadence.model_dump(mode="json"),
                cycles=_cycles(project),
            )
        session.add_all(rows.values())
        await session.flush()
        for n, sim in enumerate(persons):
            leave = [(a, b) for a, b in sim.pattern.pauses if a != date.min]
            paused = [b for a, b in sim.pattern.pauses if a == date.min]
            person = Person(
                key=sim.key,
                study_code=f"S-{n:06d}",
                name=sim.key,
                timezone=sim.zone,
                working_days=sorted(sim.pattern.working_days),
                work_starts=sim.pattern.starts,
                work_ends=sim.pattern.ends,
                pauses=[{"from": a.isoformat(), "until": b.isoformat()} for a, b in leave],
                paused_until=max(paused) if paused else None,
            )
            session.add(person)
            await session.flush()
            session.add_all(
                [
                    *(
                        Membership(person_id=person.id, project_id=project.id, role="participant")
                        for project in (rows[p.slug] for p in sim.projects)
                    ),
                    ChannelIdentity(person_id=person.id, channel="webchat", external_id=sim.key),
                    ConsentRecord(
                        person_id=person.id, version="sim", text_sha256="0" * 64, channel="webchat"
                    ),
                ]
            )


async def _pretend_sent(services: Services, now: datetime) -> None:
    """What dispatch would do with the due prompts, minus the sending."""
    async with services.sessions() as session, session.begin():
        due = [Delivery.due_at <= now]
        await move_many(session, due, "sending", "claimed", now, expected_from="planned")
        await move_many(session, due, "sent", "sent", now, values={"sent_at": Delivery.due_at})


async def simulate_database(
    days: int,
    people: int,
    start: date,
    seed: int,
    step_hours: float = 6,
    time_budget_minutes: int | None = None,
) -> Report:
    """Like :func:`prompts.simulation.simulate`, through ``plan_once`` and a temporary SQLite."""
    began = timer.perf_counter()
    rng, projects, persons = generate(days, people, start, seed)
    audit = Audit(people, days, start, rng)
    with tempfile.TemporaryDirectory(prefix="carbot-simulate-") as folder:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'simulate.db'}",
            data_dir=Path(folder) / "data",
        )
        services = Services.from_settings(settings)
        try:
            async with services.engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            await _write(services, projects, persons, time_budget_minutes)
            now = datetime.combine(start, time(0), tzinfo=UTC)
            finish = now + timedelta(days=days)
            quiet = logging.getLogger("bot.engine")
            level = quiet.level
            quiet.setLevel(logging.WARNING)  # a line per planning run would drown the report
            try:
                while now < finish:
                    # what fell due since the last step went out (dispatch runs every few
                    # seconds), before planning checks what is still planned
                    await _pretend_sent(services, now)
                    await plan_once(services, now, horizon=min(timedelta(days=2), finish - now))
                    now += timedelta(hours=step_hours)
            finally:
                quiet.setLevel(level)
            async with services.sessions() as session:
                rows = (
                    await session.execute(
                        select(Person.key, Project.slug, Delivery.slot, Delivery.prompt_key)
                        .join(Person, Delivery.person_id == Person.id)
                        .join(Project, Delivery.project_id == Project.id)
                        .where(Delivery.status.in_(("planned", "sent")))
                        .order_by(Delivery.slot, Delivery.id)
                    )
                ).all()
        finally:
            await services.close()
    by_key = {p.key: p for p in persons}
    by_slug = {p.slug: p for p in projects}
    library = load_library(None)
    for person_key, slug, slot, key in rows:
        person = by_key[person_key]
        bisect.insort(person.timeline, (slot, key))
        if audit.prompt(person, by_slug[slug], slot, key):
            person.answered.append(
                (slot, simulated_cost(library, key, f"{person_key}:{slot.isoformat()}"))
            )
    audit.report.time_budget_minutes = time_budget_minutes
    return audit.finish(persons, began)


@click.command()
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3660))
@click.option("--people", default=200, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default="2027-01-01",
    show_default=True,
    help="First simulated day (UTC).",
)
@click.option("--seed", default=1, show_default=True, help="Seed for the generated people.")
@click.option(
    "--step-hours",
    default=6.0,
    show_default=True,
    type=click.FloatRange(0.25, 47),
    help="How often the simulated planner runs (it plans two days ahead each time).",
)
@click.option(
    "--time-budget",
    "time_budget",
    type=click.IntRange(10, 600),
    default=None,
    metavar="MINUTES",
    help="A monthly time budget per participant (as the study file's time_budget_minutes).",
)
@click.option(
    "--database",
    is_flag=True,
    help="Run the real planning step against a temporary SQLite database (slower).",
)
def simulate_command(
    days: int,
    people: int,
    start: datetime,
    seed: int,
    step_hours: float,
    time_budget: int | None,
    database: bool,
) -> None:
    """Plan prompts for generated people over simulated time (nothing is sent) and report the
    burden: prompts per person per week, prompts outside working hours or on Scottish bank
    holidays, reminders per prompt, weekly-cap breaches and estimated answering minutes per
    person per month (with --time-budget, its breaches). Exits 1 if any rule was broken."""
    if database:
        report = asyncio.run(
            simulate_database(days, people, start.date(), seed, step_hours, time_budget)
        )
    else:
        report = simulate(days, people, start.date(), seed, step_hours, time_budget)
    for line in report.lines():
        click.echo(line)
    click.echo(f"({report.seconds:.1f} s)")
    if report.violations():
        raise click.exceptions.Exit(1)
