"""Builders for the rows a conversation needs: a project in its cycle and phase, a participant
with a channel identity and consent, and a sent delivery. Rows are made directly, as a loaded
study and a dispatch would have made them."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from storage.models import (
    ChannelIdentity,
    ConsentRecord,
    Cycle,
    Delivery,
    Membership,
    Partnership,
    Person,
    Phase,
    Project,
    ResearchQuestion,
)

_ids = itertools.count(1)

SCALE = [
    {"value": "1", "label": "Not at all"},
    {"value": "2", "label": "A little"},
    {"value": "3", "label": "Somewhat"},
    {"value": "4", "label": "Quite well"},
    {"value": "5", "label": "Very well"},
]


@dataclass
class ProjectRows:
    project: Project
    cycle: Cycle
    phase: Phase
    question: ResearchQuestion


async def make_project(
    session: AsyncSession,
    *,
    name: str = "Family hub approach",
    phase_name: str = "Exploring evidence",
    today: date = date(2027, 3, 1),
    default_audience: str = "team_anonymous",
    zone: str = "Europe/London",
) -> ProjectRows:
    n = next(_ids)
    partnership = Partnership(slug=f"partnership-{n}", name=f"Partnership {n}", timezone=zone)
    project = Project(
        partnership=partnership,
        slug=f"{name.lower().replace(' ', '-')}-{n}",
        name=name,
        default_audience=default_audience,
    )
    cycle = Cycle(
        project=project,
        key="cycle-1",
        name="Cycle 1",
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=60),
    )
    phase = Phase(
        cycle=cycle,
        key=phase_name.lower().replace(" ", "-"),
        name=phase_name,
        starts_on=today - timedelta(days=10),
        ends_on=today + timedelta(days=20),
    )
    question = ResearchQuestion(project=project, key="rq1", text="What helps families engage?")
    session.add_all([partnership, project, cycle, phase, question])
    await session.flush()
    return ProjectRows(project, cycle, phase, question)


async def make_person(
    session: AsyncSession,
    *projects: Project,
    key: str | None = None,
    name: str = "Morag Campbell",
    channel: str = "webchat",
    external_id: str | None = None,
    workspace: str = "",
    consented: bool = True,
    now: datetime | None = None,
) -> tuple[Person, ChannelIdentity]:
    n = next(_ids)
    person = Person(key=key or f"person-{n}", study_code=f"P{n:04d}", name=name)
    session.add(person)
    await session.flush()
    for project in projects:
        session.add(Membership(person_id=person.id, project_id=project.id, role="participant"))
    identity = ChannelIdentity(
        person_id=person.id,
        channel=channel,
        workspace=workspace,
        external_id=external_id or f"ext-{n}",
        linked_at=now,
    )
    session.add(identity)
    if consented:
        session.add(
            ConsentRecord(
                person_id=person.id,
                version="test-1",
                text_sha256=hashlib.sha256(b"test consent").hexdigest(),
                channel=channel,
                given_at=now or datetime(2027, 1, 1, tzinfo=UTC),
            )
        )
    await session.flush()
    return person, identity


async def make_delivery(
    session: AsyncSession,
    person: Person,
    rows: ProjectRows,
    *,
    sent_at: datetime,
    kind: str = "text",
    text: str = "What did you notice this week?",
    options: list[dict[str, str]] | None = None,
    status: str = "sent",
    identity: ChannelIdentity | None = None,
    window: timedelta = timedelta(hours=48),
    message_ref: str | None = None,
) -> Delivery:
    n = next(_ids)
    delivery = Delivery(
        person_id=person.id,
        project_id=rows.project.id,
        slot=sent_at - timedelta(microseconds=n),  # unique, and never after it is due
        due_at=sent_at,
        cycle_id=rows.cycle.id,
        phase_id=rows.phase.id,
        research_question_id=rows.question.id,
        prompt_key=f"test-{kind}",
        prompt_kind=kind,
        prompt_text=text,
        prompt_options=options if options is not None else (SCALE if kind == "scale" else []),
        status=status,
        identity_id=identity.id if identity is not None else None,
        sent_at=sent_at if status != "planned" else None,
        expires_at=sent_at + window if status != "planned" else None,
        message_ref=message_ref,
    )
    session.add(delivery)
    await session.flush()
    return delivery


T = TypeVar("T")


async def seed(services: Services, build: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``coro_factory(session)`` in a committed transaction and return its result."""
    async with services.sessions() as session, session.begin():
        return await build(session)
