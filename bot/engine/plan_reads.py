"""What a planning run reads: the projects (with their phases, questions and events), the
eligible participants, the slots already taken, each person's recent prompts and the answers a
carry-forward prompt may quote — read in bulk, a chunk of people at a time (moved from
:mod:`bot.engine.planner`)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.engine.calloff import eligible_person_clauses
from bot.engine.deliveries import CALLED_OFF, RETURNABLE
from bot.evaluation.events import EventInfo
from bot.services import Services
from prompts.cadence import Cadence
from prompts.context import EventWindow
from prompts.library import Library, PromptLibraryError, load_library
from storage.models import (
    Cycle,
    Delivery,
    Event,
    EventProject,
    Membership,
    Partnership,
    Person,
    Phase,
    Project,
    Reflection,
    Study,
)
from storage.queries import keyset_pages

log = logging.getLogger(__name__)

# Deliveries that occupied a person's week: everything but those called off before sending.
NOT_COUNTED = ("cancelled",)
LOOK_BACK = timedelta(days=120)


@dataclass(frozen=True)
class ProjectPlan:
    """What planning needs of one project, read once per run."""

    project: Project
    zone: str
    cadence: Cadence
    phases: tuple[Phase, ...]
    themes: tuple[str, ...]
    evaluations: tuple[EventInfo, ...] = ()  # events it took part in: evaluations after them
    events: tuple[EventWindow, ...] = ()  # events it takes part in: context prompts before them

    @property
    def phase_ranges(self) -> list[tuple[date, date]]:
        return [(p.starts_on, p.ends_on) for p in self.phases]

    def phase_on(self, day: date) -> Phase | None:
        return next((p for p in self.phases if p.starts_on <= day <= p.ends_on), None)


async def taken_slots(
    session: AsyncSession, person_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[datetime]]:
    """Each of these people's prompts between ``start`` and ``end``, of every project."""
    taken: dict[int, list[datetime]] = defaultdict(list)
    for chunk in _chunks(sorted(person_ids)):
        rows = await session.execute(
            select(Delivery.person_id, Delivery.slot).where(
                Delivery.person_id.in_(chunk),
                Delivery.slot >= start,
                Delivery.slot < end,
                _occupies_its_slot(),
            )
        )
        for person_id, slot in rows.all():
            taken[person_id].append(slot)
    return taken


def may_come_back() -> Any:
    """Called off before it was sent, for a reason that may be taken back."""
    return and_(
        Delivery.status.in_(CALLED_OFF),
        Delivery.sent_at.is_(None),
        func.coalesce(Delivery.status_reason, "").in_(RETURNABLE),
    )


def _occupies_its_slot() -> Any:
    """A delivery the planner plans around: not cancelled, and not skipped for a reason that
    may be taken back (a lifted pause gives its slot back)."""
    return and_(Delivery.status.not_in(NOT_COUNTED), not_(may_come_back()))


async def existing_keys(
    session: AsyncSession, person_ids: set[int], first: datetime, last: datetime
) -> dict[tuple[int, int, datetime], bool]:
    """The (person, project, slot) keys already in the table among these people's slots, each
    with whether its row may come back (:func:`may_come_back`): only those are looked at again."""
    found: dict[tuple[int, int, datetime], bool] = {}
    returns = may_come_back().label("may_come_back")
    for chunk in _chunks(sorted(person_ids)):
        rows = await session.execute(
            select(Delivery.person_id, Delivery.project_id, Delivery.slot, returns).where(
                Delivery.person_id.in_(chunk), Delivery.slot >= first, Delivery.slot <= last
            )
        )
        found.update(((p, q, slot), bool(back)) for p, q, slot, back in rows.all())
    return found


async def read_library(services: Services) -> Library:
    async with services.sessions() as session:
        study = (
            await session.execute(select(Study).order_by(Study.id).limit(1))
        ).scalar_one_or_none()
    try:
        return load_library(study.options if study is not None else None)
    except PromptLibraryError as exc:
        # `carbot study load` refuses such a file; a database edited by hand can still hold one.
        log.error("the study's prompts are invalid, using the built-in library: %s", exc)
        return load_library(None)


async def time_budget(services: Services) -> int | None:
    """The study's monthly time budget per participant, in seconds (None: no budget)."""
    async with services.sessions() as session:
        options = await session.scalar(select(Study.options).order_by(Study.id).limit(1))
    minutes = (options or {}).get("time_budget_minutes")
    return int(minutes) * 60 if isinstance(minutes, int) and minutes > 0 else None


async def project_plans(session: AsyncSession, default_zone: str) -> dict[int, ProjectPlan]:
    rows = await session.execute(
        select(Project)
        .join(Partnership, Project.partnership_id == Partnership.id)
        .where(Project.active.is_(True), Partnership.active.is_(True))
        .options(
            selectinload(Project.partnership),
            selectinload(Project.research_questions),
            selectinload(Project.cycles).selectinload(Cycle.phases),
        )
    )
    plans: dict[int, ProjectPlan] = {}
    events = await _event_windows(session)
    for project in rows.scalars():
        try:
            cadence = Cadence.model_validate(project.cadence or {})
        except ValueError as exc:
            log.warning("project %s has an invalid cadence, not planning it: %s", project.slug, exc)
            continue
        phases = tuple(phase for cycle in project.cycles for phase in cycle.phases)
        themes = sorted(
            {str(t) for rq in project.research_questions if rq.active for t in rq.themes or []}
        )
        plans[project.id] = ProjectPlan(
            project=project,
            zone=project.partnership.timezone or default_zone,
            cadence=cadence,
            phases=phases,
            themes=tuple(themes),
            events=events.get(project.id, ()),
        )
    return plans


async def _event_windows(session: AsyncSession) -> dict[int, tuple[EventWindow, ...]]:
    """The active events each project takes part in (for the context prompts before them)."""
    rows = await session.execute(
        select(EventProject.project_id, Event.key, Event.name, Event.starts_on)
        .join(Event, Event.id == EventProject.event_id)
        .where(Event.active.is_(True))
        .order_by(Event.starts_on)
    )
    found: dict[int, list[EventWindow]] = defaultdict(list)
    for project_id, key, name, starts_on in rows.all():
        found[project_id].append(EventWindow(key, name, starts_on))
    return {project_id: tuple(windows) for project_id, windows in found.items()}


async def eligible_pages(
    services: Services, project_id: int, size: int
) -> AsyncIterator[list[Person]]:
    """The project's eligible participants in order of id, ``size`` at a time, each page read
    in a session of its own: a run holds one page of people, not all of them."""

    async def read(session: AsyncSession, after: int) -> list[Person]:
        return list(
            await session.scalars(
                select(Person)
                .join(Membership, Membership.person_id == Person.id)
                .where(
                    Membership.project_id == project_id,
                    Membership.role == "participant",
                    Membership.active.is_(True),
                    Person.id > after,
                    *eligible_person_clauses(),
                )
                .order_by(Person.id)
                .limit(size)
            )
        )

    async for page in keyset_pages(services.sessions, read, lambda person: person.id, size):
        yield page


async def timelines(
    session: AsyncSession, person_ids: set[int], now: datetime
) -> dict[int, list[tuple[datetime, str]]]:
    """Each person's prompts (slot, key) from a while before ``now`` on, in slot order."""
    timelines: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for chunk in _chunks(sorted(person_ids)):
        rows = await session.execute(
            select(Delivery.person_id, Delivery.slot, Delivery.prompt_key)
            .where(
                Delivery.person_id.in_(chunk),
                Delivery.status.not_in(NOT_COUNTED),
                Delivery.slot >= now - LOOK_BACK,
            )
            .order_by(Delivery.slot)
        )
        for person_id, slot, key in rows.all():
            timelines[person_id].append((slot, key))
    return timelines


def _chunks(values: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


async def carry_forward_answers(
    session: AsyncSession, library: Library, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], dict[str, str]]:
    """For each (person, project): source prompt key → the person's latest answer to it there,
    unless a carry-forward prompt has already quoted it (been planned after it)."""
    found: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
    followups = library.carry_forward_sources()
    sources = set(followups.values())
    if not sources or not pairs:
        return found
    latest: dict[tuple[int, int], dict[str, tuple[str, datetime]]] = defaultdict(dict)
    last_asked: dict[tuple[int, int, str], datetime] = {}
    for chunk in _chunks(sorted({person_id for person_id, _ in pairs})):
        answers = await session.execute(
            select(Delivery.person_id, Delivery.project_id, Delivery.prompt_key, Reflection.text,
                   Reflection.created_at)
            .join(Reflection, Reflection.delivery_id == Delivery.id)
            .where(
                Delivery.person_id.in_(chunk),
                Delivery.prompt_key.in_(sources),
                Reflection.text != "",
            )
            .order_by(Reflection.created_at.desc())
        )  # fmt: skip
        for person_id, project_id, key, text, created_at in answers.all():
            latest[(person_id, project_id)].setdefault(key, (text, created_at))
        asked = await session.execute(
            select(
                Delivery.person_id, Delivery.project_id, Delivery.prompt_key, Delivery.slot
            ).where(
                Delivery.person_id.in_(chunk),
                Delivery.prompt_key.in_(followups),
                Delivery.status.not_in(NOT_COUNTED),
            )
        )
        for person_id, project_id, key, slot in asked.all():
            mark = (person_id, project_id, followups[key])
            last_asked[mark] = max(slot, last_asked.get(mark, slot))
    for pair in pairs:
        for key, (text, created_at) in latest.get(pair, {}).items():
            asked_at = last_asked.get((*pair, key))
            if asked_at is None or asked_at < created_at:
                found[pair][key] = text
    return found
