"""Test data for digests, made directly from ``storage.models`` rows."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Delivery,
    Partnership,
    Person,
    Phase,
    Project,
    Reflection,
    ResearchQuestion,
    Study,
)
from tests.support import world as build
from tests.support.world import model_cycle

# 2027-W10 is Monday 8 March – Sunday 14 March 2027 (before the clocks change on 28 March).
WEEK = "2027-W10"
MONDAY = date(2027, 3, 8)
_counter = itertools.count(1)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A UTC time on ``day`` (in March 2027 London is on GMT, so this is local time too)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@dataclass
class Team:
    project: Project
    partnership: Partnership
    lead: Person
    members: list[Person]
    questions: list[ResearchQuestion]
    phases: list[Phase]
    extra: dict[str, Any] = field(default_factory=dict)


async def add_study(session: AsyncSession, digest: dict[str, Any] | None = None) -> Study:
    study = Study(slug="wws", name="What Works Scotland", options={"digest": digest or {}})
    session.add(study)
    await session.flush()
    return study


async def add_person(
    session: AsyncSession,
    name: str,
    *,
    email: str | None = None,
    timezone: str | None = None,
    channel: str | None = "webchat",
) -> Person:
    n = next(_counter)
    person = await build.add_person(
        session, f"p{n}", f"P-{n:04d}", name, email=email, timezone=timezone
    )
    if channel:
        await build.add_identity(session, person, channel, f"ext-{n}", preferred=True)
    return person


async def add_team(
    session: AsyncSession,
    *,
    slug: str = "family-hub",
    name: str = "Family hub approach",
    partnership: Partnership | None = None,
    members: int = 5,
    lead_email: str = "lead@example.org",
    lead_timezone: str | None = None,
    partnership_name: str = "Fife",
    digest: dict[str, Any] | None = None,
) -> Team:
    made = await build.add_project(
        session,
        slug,
        name,
        partnership=partnership or (f"{slug}-cpp", partnership_name),
        digest=digest or {},
        questions=[("rq1", "How do families find us?"), ("rq2", "What helps staff share?")],
        **model_cycle(date(2027, 2, 1), date(2027, 3, 1), date(2027, 3, 22), date(2027, 4, 30)),
    )
    lead = await add_person(
        session, f"Lead of {name}", email=lead_email, timezone=lead_timezone, channel=None
    )
    await build.add_member(session, lead, made.project, "lead")
    people = []
    for index in range(members):
        person = await add_person(session, f"Member {index + 1} of {slug}")
        await build.add_member(session, person, made.project)
        people.append(person)
    return Team(made.project, made.partnership, lead, people, made.questions, made.phases)


async def add_delivery(
    session: AsyncSession,
    team: Team,
    person: Person,
    when: datetime,
    status: str = "answered",
    *,
    prompt_key: str = "what-surprised",
    prompt_text: str = "What surprised you this week?",
    prompt_kind: str = "text",
    options: list[Any] | None = None,
) -> Delivery:
    return await build.add_delivery(
        session,
        person.id,
        team.project.id,
        when,
        prompt_key=prompt_key,
        prompt_kind=prompt_kind,
        prompt_text=prompt_text,
        prompt_options=options or [],
        status=status,
        phase_id=team.phases[1].id,
    )


async def add_reflection(
    session: AsyncSession,
    team: Team,
    person: Person,
    text: str = "",
    *,
    audience: str = "team",
    when: datetime | None = None,
    kind: str = "text",
    question: int | None = 0,
    phase: int | None = 1,
    delivery: Delivery | None = None,
    scale_value: int | None = None,
    choice: str | None = None,
    photo: str | None = None,
    digest_id: int | None = None,
) -> Reflection:
    reflection = await build.add_reflection(
        session,
        person.id,
        team.project.id,
        text,
        created_at=when or at(MONDAY + timedelta(days=1)),
        audience=audience,
        kind=kind,
        delivery_id=delivery.id if delivery else None,
        research_question_id=team.questions[question].id if question is not None else None,
        phase_id=team.phases[phase].id if phase is not None else None,
        scale_value=scale_value,
        choice=choice,
        digest_id=digest_id,
    )
    if photo:
        await build.add_attachment(session, reflection, photo, content_type="image/jpeg", size=1234)
    return reflection
