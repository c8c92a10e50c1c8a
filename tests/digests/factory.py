"""Test data for digests, made directly from ``storage.models`` rows."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Attachment,
    ChannelIdentity,
    Cycle,
    Delivery,
    Membership,
    Partnership,
    Person,
    Phase,
    Project,
    Reflection,
    ResearchQuestion,
    Study,
)

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
    person = Person(key=f"p{n}", study_code=f"P-{n:04d}", name=name, email=email, timezone=timezone)
    session.add(person)
    await session.flush()
    if channel:
        session.add(
            ChannelIdentity(
                person_id=person.id, channel=channel, external_id=f"ext-{n}", preferred=True
            )
        )
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
    if partnership is None:
        partnership = Partnership(
            slug=f"{slug}-cpp", name=partnership_name, timezone="Europe/London"
        )
        session.add(partnership)
        await session.flush()
    project = Project(partnership_id=partnership.id, slug=slug, name=name, digest=digest or {})
    session.add(project)
    await session.flush()
    questions = [
        ResearchQuestion(
            project_id=project.id, key="rq1", text="How do families find us?", position=0
        ),
        ResearchQuestion(
            project_id=project.id, key="rq2", text="What helps staff share?", position=1
        ),
    ]
    session.add_all(questions)
    cycle = Cycle(
        project_id=project.id,
        key="c1",
        name="Cycle 1",
        starts_on=date(2027, 2, 1),
        ends_on=date(2027, 4, 30),
    )
    session.add(cycle)
    await session.flush()
    phases = [
        Phase(cycle_id=cycle.id, key=key, name=name, position=at, starts_on=start, ends_on=end)
        for at, (key, name, start, end) in enumerate(
            [
                ("scoping", "Scoping", date(2027, 2, 1), date(2027, 2, 28)),
                ("exploring-evidence", "Exploring evidence", date(2027, 3, 1), date(2027, 3, 21)),
                ("testing-change", "Testing change", date(2027, 3, 22), date(2027, 4, 30)),
            ]
        )
    ]
    session.add_all(phases)
    lead = await add_person(
        session, f"Lead of {name}", email=lead_email, timezone=lead_timezone, channel=None
    )
    session.add(Membership(person_id=lead.id, project_id=project.id, role="lead"))
    people = []
    for index in range(members):
        person = await add_person(session, f"Member {index + 1} of {slug}")
        session.add(Membership(person_id=person.id, project_id=project.id, role="participant"))
        people.append(person)
    await session.flush()
    return Team(project, partnership, lead, people, questions, phases)


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
    delivery = Delivery(
        person_id=person.id,
        project_id=team.project.id,
        slot=when,
        due_at=when,
        prompt_key=prompt_key,
        prompt_kind=prompt_kind,
        prompt_text=prompt_text,
        prompt_options=options or [],
        status=status,
        phase_id=team.phases[1].id,
    )
    session.add(delivery)
    await session.flush()
    return delivery


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
    created = when or at(MONDAY + timedelta(days=1))
    reflection = Reflection(
        person_id=person.id,
        project_id=team.project.id,
        delivery_id=delivery.id if delivery else None,
        research_question_id=team.questions[question].id if question is not None else None,
        phase_id=team.phases[phase].id if phase is not None else None,
        kind=kind,
        text=text,
        scale_value=scale_value,
        choice=choice,
        audience=audience,
        channel="webchat",
        created_at=created,
        digest_id=digest_id,
    )
    session.add(reflection)
    await session.flush()
    if photo:
        session.add(
            Attachment(
                reflection_id=reflection.id,
                kind="photo",
                filename=photo,
                content_type="image/jpeg",
                size=1234,
                sha256="0" * 64,
                path=f"evidence/{photo}",
            )
        )
        await session.flush()
    return reflection
