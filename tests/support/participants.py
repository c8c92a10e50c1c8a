"""Builders for the rows a conversation needs: a project in its cycle and phase, a participant
with a channel identity and consent, and a sent delivery; presets on :mod:`tests.support.world`."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ChannelIdentity,
    Cycle,
    Delivery,
    Person,
    Phase,
    Project,
    ResearchQuestion,
)
from tests.support import world
from tests.support.world import Consent, seed

__all__ = [
    "SCALE",
    "ProjectRows",
    "make_delivery",
    "make_participant",
    "make_person",
    "make_project",
    "seed",
]

_ids = itertools.count(1)
# The consent every participant here gave: its version and text digest.
TEST_1 = ("test-1", hashlib.sha256(b"test consent").hexdigest())

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
    made = await world.add_project(
        session,
        f"{name.lower().replace(' ', '-')}-{n}",
        name,
        partnership=(f"partnership-{n}", f"Partnership {n}"),
        timezone=zone,
        default_audience=default_audience,
        cycle=("cycle-1", "Cycle 1", today - timedelta(days=30), today + timedelta(days=60)),
        phases=[
            (
                phase_name.lower().replace(" ", "-"),
                phase_name,
                today - timedelta(days=10),
                today + timedelta(days=20),
            )
        ],
        questions=[("rq1", "What helps families engage?")],
    )
    return ProjectRows(made.project, made.cycle, made.phases[0], made.questions[0])


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
    person = await world.add_person(
        session, key or f"person-{n}", f"P{n:04d}", name, projects=projects
    )
    identity = await world.add_identity(
        session, person, channel, external_id or f"ext-{n}", workspace=workspace, linked_at=now
    )
    if consented:
        await world.add_consent(
            session, person, channel, Consent(now or datetime(2027, 1, 1, tzinfo=UTC), *TEST_1)
        )
    return person, identity


async def make_participant(
    session: AsyncSession, *, now: datetime, **person: Any
) -> tuple[ProjectRows, Person, ChannelIdentity]:
    """A project and one consented participant in it, linked on a channel at ``now``;
    ``person`` are :func:`make_person`'s other arguments (name, channel, external_id...)."""
    rows = await make_project(session)
    who, identity = await make_person(session, rows.project, now=now, **person)
    return rows, who, identity


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
    return await world.add_delivery(
        session,
        person.id,
        rows.project.id,
        sent_at,
        slot=sent_at - timedelta(microseconds=n),  # unique, and never after it is due
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
