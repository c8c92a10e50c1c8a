"""Benchmark: build and render the weekly digests of 40 projects holding 20,000 reflections.

The reflections (with one delivery each, a tenth of them ratings and a few with photos) are
spread over eight weeks in eight partnerships; the digests are those of the last week, built
from the database and rendered to a full email (HTML with inlined CSS, and plain text). The
cross-partnership digest is built and rendered once as well. SQLite in a temp dir.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bot.services import Services
from bot.settings import Settings
from digests.cross import build_cross
from digests.data import build_weekly
from digests.render import make_message, weekly_context
from digests.schedule import Week, schedule_for, zone
from storage.models import (
    Attachment,
    Base,
    Cycle,
    Delivery,
    Membership,
    Person,
    Phase,
    Project,
    Reflection,
    ResearchQuestion,
)
from tests.support.world import add_partnership, add_project

PROJECTS = 40
REFLECTIONS = 20_000
MEMBERS = 8
WEEKS = 8
LAST_WEEK = Week.parse("2027-W10")
_VOCABULARY = (
    "families waiting times referral form community transport nursery staff hub drop-in "
    "budget partnership working prevention trust rota leaflet school gp outreach housing"
)
WORDS = tuple(_VOCABULARY.split())
AUDIENCES = ("team", "team", "team_anonymous", "team_anonymous", "researchers", "private")


async def _populate(services: Services) -> None:
    rng = random.Random(7)
    async with services.sessions() as session, session.begin():
        partnerships = [
            await add_partnership(session, f"cpp-{i}", f"Partnership {i}") for i in range(8)
        ]
        projects = [
            (
                await add_project(
                    session,
                    f"project-{i}",
                    f"Project {i}",
                    partnership=partnerships[i % 8],
                    questions=[(f"rq{k}", f"Question {k}?") for k in range(3)],
                    cycle=("c1", "Cycle 1", date(2027, 1, 4), date(2027, 5, 30)),
                    phases=[
                        ("scoping", "Scoping", date(2027, 1, 4), date(2027, 2, 14)),
                        ("exploring", "Exploring evidence", date(2027, 2, 15), date(2027, 3, 28)),
                        ("testing", "Testing change", date(2027, 3, 29), date(2027, 5, 30)),
                    ],
                )
            ).project
            for i in range(PROJECTS)
        ]
        people = [
            Person(
                key=f"p{i}", study_code=f"P-{i:05d}", name=f"Person {i}", email=f"p{i}@example.org"
            )
            for i in range(PROJECTS * (MEMBERS + 1))
        ]
        session.add_all(people)
        await session.flush()
        members: dict[int, list[int]] = {}
        for index, project in enumerate(projects):
            team = people[index * (MEMBERS + 1) : (index + 1) * (MEMBERS + 1)]
            session.add(Membership(person_id=team[0].id, project_id=project.id, role="lead"))
            session.add_all(
                Membership(person_id=p.id, project_id=project.id, role="participant")
                for p in team[1:]
            )
            members[project.id] = [p.id for p in team[1:]]
        await session.flush()
        questions = {
            (q.project_id, q.position): q.id
            for q in await session.scalars(select(ResearchQuestion))
        }
        phases = list(await session.scalars(select(Phase)))
        phase_of = {p.cycle_id: [] for p in phases}  # type: dict[int, list[int]]
        for phase in phases:
            phase_of[phase.cycle_id].append(phase.id)
        cycles = {c.project_id: c.id for c in await session.scalars(select(Cycle))}

        first = LAST_WEEK.shifted(-(WEEKS - 1)).monday
        deliveries: list[dict[str, Any]] = []
        reflections: list[dict[str, Any]] = []
        for n in range(REFLECTIONS):
            project = projects[n % PROJECTS]
            person = members[project.id][(n // PROJECTS) % MEMBERS]
            moment = datetime.combine(first, datetime.min.time(), UTC) + timedelta(
                minutes=rng.randrange(WEEKS * 7 * 24 * 60), microseconds=n
            )
            kind = "scale" if n % 10 == 0 else "text"
            deliveries.append(
                {
                    "id": n + 1,
                    "person_id": person,
                    "project_id": project.id,
                    "slot": moment,
                    "due_at": moment,
                    "prompt_key": "how-well" if kind == "scale" else f"prompt-{n % 7}",
                    "prompt_kind": kind,
                    "prompt_text": "How well did it go?" if kind == "scale" else f"Prompt {n % 7}?",
                    "status": "answered",
                }
            )
            reflections.append(
                {
                    "id": n + 1,
                    "person_id": person,
                    "project_id": project.id,
                    "delivery_id": n + 1,
                    "research_question_id": questions[(project.id, n % 3)],
                    "phase_id": phase_of[cycles[project.id]][1],
                    "kind": kind,
                    "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40))),
                    "scale_value": rng.randint(1, 5) if kind == "scale" else None,
                    "audience": AUDIENCES[n % len(AUDIENCES)],
                    "channel": "webchat",
                    "created_at": moment + timedelta(minutes=5),
                }
            )
        for start in range(0, REFLECTIONS, 2000):
            await session.execute(insert(Delivery), deliveries[start : start + 2000])
            await session.execute(insert(Reflection), reflections[start : start + 2000])
        await session.execute(
            insert(Attachment),
            [
                {
                    "reflection_id": n + 1,
                    "kind": "photo",
                    "filename": f"photo-{n}.jpg",
                    "content_type": "image/jpeg",
                    "size": 1000,
                    "sha256": "0" * 64,
                    "path": f"evidence/{n}.jpg",
                }
                for n in range(3, REFLECTIONS, 97)
            ],
        )


async def main() -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}",
            data_dir=Path(folder) / "data",
            outbox_dir=Path(folder) / "outbox",
        )
        services = Services.from_settings(settings)
        async with services.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        started = time.perf_counter()
        await _populate(services)
        populated = time.perf_counter() - started

        tz = zone("Europe/London", "Europe/London")
        schedule = schedule_for({})
        shown = 0
        size = 0
        started = time.perf_counter()
        async with services.sessions() as session:
            projects = list(await session.scalars(select(Project).order_by(Project.id)))
            for project in projects:
                digest = await build_weekly(
                    session,
                    project,
                    LAST_WEEK,
                    tz,
                    public_url=settings.public_url,
                    schedule=schedule,
                )
                message = make_message("weekly", "lead@example.org", weekly_context(digest))
                shown += digest.shown_count
                size += len(bytes(message))
        weekly = time.perf_counter() - started

        started = time.perf_counter()
        async with services.sessions() as session:
            cross = await build_cross(session, LAST_WEEK, tz, public_url=settings.public_url)
            make_message("cross-partnership", "r@example.org", {"d": cross, "recipient_name": None})
        cross_time = time.perf_counter() - started
        await services.close()
    return [
        f"data: {PROJECTS} projects, {REFLECTIONS:,} reflections over {WEEKS} weeks "
        f"(made in {populated:.1f} s)",
        f"weekly digests of {LAST_WEEK.label}: {PROJECTS} built and rendered in {weekly:.2f} s "
        f"({weekly / PROJECTS * 1000:.0f} ms per digest; {shown:,} reflections shown, "
        f"{size / PROJECTS / 1024:.0f} KiB per email)",
        f"cross-partnership digest: {cross.total:,} reflections in {cross_time * 1000:.0f} ms",
    ]
