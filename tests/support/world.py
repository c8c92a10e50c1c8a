"""The one test world builder: the rows a loaded study, a dispatch and a conversation would have
made, written directly. Every test package builds its world from these functions, giving the few
names, dates and people its tests care about as arguments; nothing here picks a date of its own.

- :func:`add_project`: a partnership (or an existing one), a project, its research questions and
  one cycle with its phases, returned as :class:`ProjectWorld`.
- :func:`add_person`, :func:`add_member`, :func:`add_identity`, :func:`add_consent`: a person,
  their place in a project, a channel identity and a consent record.
- :func:`add_delivery`, :func:`add_reflection`, :func:`add_attachment`: what was sent, answered
  and attached.
- :func:`add_user`: a review workspace account.
- :func:`seed`: run a builder in a committed transaction; :func:`built_for_the_cli`: a world in
  a database that ``carbot`` commands find through the environment.

Each adds its rows and flushes, so ids are known on return and rows of one table are numbered in
the order they were added.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from storage.models import (
    Attachment,
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
    Reflection,
    ResearchQuestion,
    User,
)
from tests.conftest import make_settings
from tests.support.schema import create_schema

# A phase or cycle: (key, name, first day, last day).
Span = tuple[str, str, date, date]
# A research question: (key, text), or (key, text, themes).
Question = tuple[str, str] | tuple[str, str, list[str]]

# The three phases of the default improvement model, for worlds that give their own dates.
SCOPING, EXPLORING, TESTING = "scoping", "exploring-evidence", "testing-change"
PHASE_NAMES = {SCOPING: "Scoping", EXPLORING: "Exploring evidence", TESTING: "Testing change"}

T = TypeVar("T")
R = TypeVar("R", bound=Base)


def phases(*spans: tuple[str, date, date]) -> list[Span]:
    """Phases of the default model by key: ``phases(("scoping", start, end), ...)``."""
    return [(key, PHASE_NAMES[key], start, end) for key, start, end in spans]


def model_cycle(
    starts_on: date, exploring_from: date, testing_from: date, ends_on: date, *, key: str = "c1"
) -> dict[str, Any]:
    """``add_project``'s cycle and phases for one cycle of the default model, each phase ending
    the day before the next begins: ``add_project(..., **model_cycle(...))``."""
    day = timedelta(days=1)
    return {
        "cycle": (key, "Cycle 1", starts_on, ends_on),
        "phases": phases(
            (SCOPING, starts_on, exploring_from - day),
            (EXPLORING, exploring_from, testing_from - day),
            (TESTING, testing_from, ends_on),
        ),
    }


@dataclass
class ProjectWorld:
    """A project as :func:`add_project` made it."""

    partnership: Partnership
    project: Project
    cycles: list[Cycle] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    questions: list[ResearchQuestion] = field(default_factory=list)

    @property
    def cycle(self) -> Cycle:
        return self.cycles[0]

    def phase(self, key: str) -> Phase:
        return next(phase for phase in self.phases if phase.key == key)

    def question(self, key: str) -> ResearchQuestion:
        return next(question for question in self.questions if question.key == key)


@dataclass(frozen=True)
class Consent:
    """A consent record's version, text digest and time (``None``: the database's now)."""

    given_at: datetime | None = None
    version: str = "1"
    text_sha256: str = "0" * 64


async def _added(session: AsyncSession, row: R) -> R:
    session.add(row)
    await session.flush()
    return row


async def add_partnership(
    session: AsyncSession, slug: str, name: str, *, timezone: str = "Europe/London"
) -> Partnership:
    return await _added(session, Partnership(slug=slug, name=name, timezone=timezone))


async def add_project(
    session: AsyncSession,
    slug: str,
    name: str,
    *,
    partnership: Partnership | tuple[str, str],
    timezone: str = "Europe/London",
    cycle: Span | None = None,
    phases: Sequence[Span] = (),
    questions: Sequence[Question] = (),
    **fields: Any,
) -> ProjectWorld:
    """A project in ``partnership`` (a row, or a new one's (slug, name)) with its questions and
    one cycle of ``phases``; ``fields`` are the project's other columns (cadence, digest...)."""
    if isinstance(partnership, tuple):
        partnership = await add_partnership(session, *partnership, timezone=timezone)
    project = await _added(
        session, Project(partnership_id=partnership.id, slug=slug, name=name, **fields)
    )
    world = ProjectWorld(partnership, project)
    for position, (key, text, *themes) in enumerate(questions):
        question = ResearchQuestion(project_id=project.id, key=key, text=text, position=position)
        if themes:
            question.themes = themes[0]
        world.questions.append(question)
    session.add_all(world.questions)
    if cycle is not None:
        key, cycle_name, starts_on, ends_on = cycle
        row = await _added(
            session,
            Cycle(project_id=project.id, key=key, name=cycle_name, starts_on=starts_on,
                  ends_on=ends_on),
        )  # fmt: skip
        world.cycles.append(row)
        world.phases = [
            Phase(cycle_id=row.id, key=key, name=phase_name, position=position,
                  starts_on=starts_on, ends_on=ends_on)
            for position, (key, phase_name, starts_on, ends_on) in enumerate(phases)
        ]  # fmt: skip
        session.add_all(world.phases)
    await session.flush()
    return world


async def add_person(
    session: AsyncSession,
    key: str,
    study_code: str,
    name: str,
    *,
    projects: Sequence[Project | int] = (),
    role: str = "participant",
    **fields: Any,
) -> Person:
    """A person, a member of each of ``projects`` in ``role``; ``fields`` are their other
    columns (email, timezone, active...)."""
    person = await _added(session, Person(key=key, study_code=study_code, name=name, **fields))
    for project in projects:
        await add_member(session, person, project, role)
    return person


async def add_member(
    session: AsyncSession, person: Person, project: Project | int, role: str = "participant"
) -> Membership:
    project_id = project if isinstance(project, int) else project.id
    return await _added(session, Membership(person_id=person.id, project_id=project_id, role=role))


async def add_identity(
    session: AsyncSession,
    person: Person,
    channel: str,
    external_id: str,
    *,
    workspace: str = "",
    linked_at: datetime | None = None,
    preferred: bool = False,
    status: str = "active",
) -> ChannelIdentity:
    return await _added(
        session,
        ChannelIdentity(
            person_id=person.id,
            channel=channel,
            workspace=workspace,
            external_id=external_id,
            linked_at=linked_at,
            preferred=preferred,
            status=status,
        ),
    )


async def add_consent(
    session: AsyncSession, person: Person, channel: str, consent: Consent = Consent()
) -> ConsentRecord:
    given = {"given_at": consent.given_at} if consent.given_at is not None else {}
    return await _added(
        session,
        ConsentRecord(person_id=person.id, version=consent.version,
                      text_sha256=consent.text_sha256, channel=channel, **given),
    )  # fmt: skip


async def add_delivery(
    session: AsyncSession,
    person_id: int,
    project_id: int,
    due_at: datetime,
    *,
    prompt_key: str,
    prompt_text: str,
    prompt_kind: str = "text",
    prompt_options: Sequence[Any] = (),
    slot: datetime | None = None,
    **fields: Any,
) -> Delivery:
    """A delivery due at ``due_at`` (its slot too, unless given); ``fields`` are its other
    columns (status, phase_id, sent_at...)."""
    return await _added(
        session,
        Delivery(
            person_id=person_id,
            project_id=project_id,
            slot=slot or due_at,
            due_at=due_at,
            prompt_key=prompt_key,
            prompt_kind=prompt_kind,
            prompt_text=prompt_text,
            prompt_options=list(prompt_options),
            **fields,
        ),
    )


async def add_reflection(
    session: AsyncSession,
    person_id: int,
    project_id: int,
    text: str,
    *,
    created_at: datetime,
    audience: str,
    kind: str = "text",
    channel: str = "webchat",
    **fields: Any,
) -> Reflection:
    """A reflection; ``fields`` are its other columns (delivery_id, phase_id, scale_value...)."""
    return await _added(
        session,
        Reflection(
            person_id=person_id,
            project_id=project_id,
            text=text,
            kind=kind,
            audience=audience,
            channel=channel,
            created_at=created_at,
            **fields,
        ),
    )


async def add_attachment(
    session: AsyncSession,
    reflection: Reflection,
    filename: str,
    *,
    content_type: str,
    size: int,
    path: str | None = None,
    sha256: str = "0" * 64,
) -> Attachment:
    """A photo on ``reflection``, stored at ``path`` (``evidence/<filename>`` unless given)."""
    return await _added(
        session,
        Attachment(
            reflection_id=reflection.id,
            kind="photo",
            filename=filename,
            content_type=content_type,
            size=size,
            sha256=sha256,
            path=path or f"evidence/{filename}",
        ),
    )


async def add_user(
    session: AsyncSession,
    email: str,
    password_hash: str,
    *,
    person: Person | None = None,
    is_admin: bool = False,
) -> User:
    return await _added(
        session,
        User(
            email=email,
            person_id=person.id if person else None,
            is_admin=is_admin,
            password_hash=password_hash,
        ),
    )


def built_for_the_cli(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    build: Callable[[Services], Awaitable[T]],
    *,
    outbox: bool = False,
) -> T:
    """``build``'s world in a fresh SQLite database that ``carbot`` commands find through the
    environment (its data directory too, and its outbox when ``outbox``)."""
    settings = make_settings(tmp_path)
    monkeypatch.setenv("CARBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CARBOT_DATA_DIR", str(settings.data_dir))
    if outbox:
        monkeypatch.setenv("CARBOT_OUTBOX_DIR", str(settings.outbox_dir))
    monkeypatch.setenv("CARBOT_SECRET_KEY", "test-secret-key-not-for-production")

    async def make() -> T:
        services = Services.from_settings(settings)
        try:
            await create_schema(services.engine)
            return await build(services)
        finally:
            await services.close()

    return asyncio.run(make())


async def seed(services: Services, build: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``build(session)`` in a committed transaction and return its result."""
    async with services.sessions() as session, session.begin():
        return await build(session)
