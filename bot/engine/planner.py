"""The planning step: turn cadences and working patterns into ``planned`` delivery rows.

``plan_once(services, now)`` is called by the scheduler every minute (and by tests at a frozen
time). It inserts each delivery with ``INSERT … ON CONFLICT DO NOTHING`` on the unique key
(person, project, slot), so a restart or a second worker never plans a prompt twice; it calls
off planned deliveries that should no longer go out, and plans again a slot called off for a
reason that was since taken back — each by a move of ``bot.engine.deliveries``.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import and_, func, not_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.engine.availability import judge, pattern_for
from bot.engine.calloff import eligible_person_clauses, tidy_planned
from bot.engine.deliveries import CALLED_OFF, RETURNABLE, move
from bot.evaluation.events import EventInfo, study_events
from bot.evaluation.plan import item_due, render_item
from bot.services import Services
from digests.timespent import budget_spent
from prompts.cadence import Cadence
from prompts.context import EventWindow, context_prompt
from prompts.library import Library, PromptLibraryError, load_library, neighbours, prompt_set
from prompts.schedule import WorkingPattern, plan_slots, within_budget
from prompts.timecost import CAP
from storage.db import transaction
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

log = logging.getLogger(__name__)

V = TypeVar("V")

# Deliveries that occupied a person's week: everything but those called off before sending.
NOT_COUNTED = ("cancelled",)
UNIQUE_KEY = ("person_id", "project_id", "slot")
# what a called-off delivery forgets when its slot is planned again
REVIVED_RESETS: dict[str, Any] = {
    "cancelled_at": None,
    "skipped_at": None,
    "last_error": None,
    "attempts": 0,
    "identity_id": None,
    "lease_owner": None,
    "lease_until": None,
    "snoozed": False,
}
TAKEN_MARGIN = timedelta(days=8)  # a week either side: the cap and the gap look no further
BATCH = 200  # people-and-projects planned per transaction
LOOK_BACK = timedelta(days=120)
YIELD_EVERY = 100  # people planned between two turns of the event loop
LOOKAHEAD = timedelta(days=1)  # how far past the horizon a run looks for the next slot
MONTH_MARGIN = timedelta(days=32)  # the time budget looks at whole months around the horizon


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


async def plan_once(
    services: Services,
    now: datetime,
    *,
    horizon: timedelta = timedelta(days=2),
    since: datetime | None = None,
    only: set[int] | None = None,
    tidy: bool = True,
) -> int:
    """Plan every eligible person's prompts in ``[now, now + horizon)``; return rows inserted."""
    return (await plan_run(services, now, horizon=horizon, since=since, only=only, tidy=tidy))[0]


async def plan_run(
    services: Services,
    now: datetime,
    *,
    horizon: timedelta = timedelta(days=2),
    since: datetime | None = None,
    only: set[int] | None = None,
    tidy: bool = True,
) -> tuple[int, datetime]:
    """:func:`plan_once`, saying also when the next slot could enter the horizon (the earliest
    one anyone would have in the day after it; with nothing changed, no run before then can
    plan anything). ``since`` plans only slots from then on, ``only`` only these projects,
    ``tidy=False`` skips the call-off scan (:class:`bot.engine.watermark.Planner` uses them)."""
    if now.tzinfo is None:
        raise ValueError("plan_once needs a timezone-aware now")
    now = now.astimezone(UTC)
    end = now + horizon
    start = max(now, since) if since is not None else now
    library = await _library(services)
    budget = await _time_budget(services)
    if tidy:
        await tidy_planned(services, now)
    async with services.sessions() as session:
        projects = await _projects(session, services.settings.default_timezone)
        if only is not None:
            projects = {key: plan for key, plan in projects.items() if key in only}
        events = await study_events(session)
        for project_id, found in list(projects.items()):
            mine = tuple(e for e in events if project_id in e.project_ids)
            if mine:
                projects[project_id] = replace(found, evaluations=mine)
        members = await _eligible_members(session, [p.project.id for p in projects.values()])
        taken = await _taken(session, now - TAKEN_MARGIN, end + TAKEN_MARGIN)
        spent = (
            await budget_spent(
                session,
                sorted({p.id for people in members.values() for p in people}),
                now - MONTH_MARGIN,
                end + MONTH_MARGIN,
            )
            if budget is not None
            else defaultdict(list)
        )
    work: list[tuple[ProjectPlan, Person, WorkingPattern, list[datetime]]] = []
    next_entry = end + LOOKAHEAD
    for project_id, people in members.items():
        plan = projects[project_id]
        for number, person in enumerate(people):
            if number % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a long run leaves the event loop to sends meanwhile
            try:
                pattern = pattern_for(person, plan.project, services.settings.default_timezone)
            except (ValueError, ZoneInfoNotFoundError) as exc:
                log.warning("not planning for person %s: %s", person.key, exc)
                continue
            slots = plan_slots(
                plan.cadence,
                pattern,
                plan.phase_ranges,
                start,
                end,
                seed=f"{person.key}:{plan.project.slug}",
                taken=taken[person.id],
            )
            ahead = plan_slots(
                plan.cadence,
                pattern,
                plan.phase_ranges,
                end,
                next_entry,
                seed=f"{person.key}:{plan.project.slug}",
                taken=[*taken[person.id], *slots],
            )
            if ahead:
                next_entry = min(next_entry, min(ahead))
            slots = [slot for slot in slots if _may_plan(plan, person, pattern, slot, now)]
            slots = within_budget(slots, pattern.zone, spent[person.id], budget, CAP)
            if slots:
                spent[person.id].extend((slot, CAP) for slot in slots)
                taken[person.id].extend(slots)  # the person's other projects keep clear of them
                work.append((plan, person, pattern, slots))
    inserted = 0
    for first in range(0, len(work), BATCH):
        inserted += await _insert_batch(services, library, work[first : first + BATCH], now)
    if inserted:
        log.info("planned %d deliveries", inserted, extra={"action": "plan", "count": inserted})
    return inserted, next_entry


def _may_plan(
    plan: ProjectPlan, person: Person, pattern: WorkingPattern, slot: datetime, now: datetime
) -> bool:
    """The one verdict agrees: an eligible person (the query chose them) may have this slot."""
    decided = judge(
        person, plan.project, slot, now, phases=plan.phase_ranges, in_project=True, pattern=pattern
    )
    return not decided.called_off


def _grouped(pairs: Iterable[tuple[int, V]]) -> dict[int, list[V]]:
    """``(id, value)`` pairs as each id's list of values, in the order given."""
    grouped: dict[int, list[V]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return grouped


async def _taken(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[int, list[datetime]]:
    """Each person's prompts between ``start`` and ``end``, of every project."""
    rows = await session.execute(
        select(Delivery.person_id, Delivery.slot).where(
            Delivery.slot >= start, Delivery.slot < end, _occupies_its_slot()
        )
    )
    return _grouped(rows.all())


def _may_come_back() -> Any:
    """Called off before it was sent, for a reason that may be taken back."""
    return and_(
        Delivery.status.in_(CALLED_OFF),
        Delivery.sent_at.is_(None),
        func.coalesce(Delivery.status_reason, "").in_(RETURNABLE),
    )


def _occupies_its_slot() -> Any:
    """A delivery the planner plans around: not cancelled, and not skipped for a reason that
    may be taken back (a lifted pause gives its slot back)."""
    return and_(Delivery.status.not_in(NOT_COUNTED), not_(_may_come_back()))


async def _insert_batch(
    services: Services,
    library: Library,
    work: Sequence[tuple[ProjectPlan, Person, WorkingPattern, list[datetime]]],
    now: datetime,
) -> int:
    """Choose a prompt for each slot and insert the deliveries, in one transaction: the new
    slots in batched ``INSERT … ON CONFLICT DO NOTHING RETURNING id``, a slot already in the table
    planned again (if it may come back) by its own conditional move."""
    inserted = 0
    async with transaction(services.sessions) as session:
        people = {person.id for _, person, _, _ in work}
        timelines = await _timelines(session, people, now)
        answers = await _carry_forward_answers(
            session, library, {(person.id, plan.project.id) for plan, person, _, _ in work}
        )
        slots_in = [slot for _, _, _, slots in work for slot in slots]
        existing = await _existing_keys(session, people, min(slots_in), max(slots_in))
        rows: list[dict[str, Any]] = []
        for plan, person, pattern, slots in work:
            inserted += await _insert_person(
                session,
                library,
                plan,
                person,
                pattern,
                slots,
                timelines[person.id],
                answers[(person.id, plan.project.id)],
                now,
                existing,
                rows,
            )
        if rows:  # batched by SQLAlchemy ("insertmanyvalues"); RETURNING names the rows inserted
            connection = await session.connection()
            result = await connection.execute(_insert(session).returning(Delivery.id), rows)
            inserted += len(result.all())
    return inserted


async def _existing_keys(
    session: AsyncSession, person_ids: set[int], first: datetime, last: datetime
) -> set[tuple[int, int, datetime]]:
    """The (person, project, slot) keys already in the table among these people's slots."""
    found: set[tuple[int, int, datetime]] = set()
    for chunk in _chunks(sorted(person_ids)):
        rows = await session.execute(
            select(Delivery.person_id, Delivery.project_id, Delivery.slot).where(
                Delivery.person_id.in_(chunk), Delivery.slot >= first, Delivery.slot <= last
            )
        )
        found.update((p, q, slot) for p, q, slot in rows.all())
    return found


async def _library(services: Services) -> Library:
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


async def _time_budget(services: Services) -> int | None:
    """The study's monthly time budget per participant, in seconds (None: no budget)."""
    async with services.sessions() as session:
        options = await session.scalar(select(Study.options).order_by(Study.id).limit(1))
    minutes = (options or {}).get("time_budget_minutes")
    return int(minutes) * 60 if isinstance(minutes, int) and minutes > 0 else None


async def _projects(session: AsyncSession, default_zone: str) -> dict[int, ProjectPlan]:
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


async def _eligible_members(
    session: AsyncSession, project_ids: Sequence[int]
) -> dict[int, list[Person]]:
    if not project_ids:
        return {}
    rows = await session.execute(
        select(Membership.project_id, Person)
        .join(Person, Membership.person_id == Person.id)
        .where(
            Membership.project_id.in_(project_ids),
            Membership.role == "participant",
            Membership.active.is_(True),
            *eligible_person_clauses(),
        )
        .order_by(Membership.project_id, Person.id)
    )
    return _grouped(rows.all())


async def _insert_person(
    session: AsyncSession,
    library: Library,
    plan: ProjectPlan,
    person: Person,
    pattern: WorkingPattern,
    slots: list[datetime],
    timeline: list[tuple[datetime, str]],
    answers: dict[str, str],
    now: datetime,
    existing: set[tuple[int, int, datetime]],
    rows: list[dict[str, Any]],
) -> int:
    """Choose each slot's prompt; a new slot's row goes on ``rows`` (inserted by the caller),
    one already in the table is planned again here if it may come back. Returns how many were
    planned again."""
    questions = [rq for rq in plan.project.research_questions if rq.active]
    rq_ids = {rq.key: rq.id for rq in questions}
    inserted = 0
    for slot in slots:
        phase = plan.phase_on(slot.astimezone(pattern.zone).date())
        before, after = neighbours(timeline, slot)
        seed = f"{person.key}:{plan.project.slug}:{slot.isoformat()}"
        due = item_due(plan.evaluations, prompt_set("evaluation"), timeline, slot, pattern.zone)
        chosen = (
            render_item(due[1], due[0])  # after an event, its evaluation comes first
            if due is not None
            else context_prompt(
                library,
                plan.events,
                slot.astimezone(pattern.zone).date(),
                timeline,
                questions,
                seed,
            )
            or library.choose(
                phase.key if phase else None,
                questions,
                plan.themes,
                before,
                answers,
                seed=seed,
                avoid=after,
            )
        )
        values = {
            "person_id": person.id,
            "project_id": plan.project.id,
            "slot": slot,
            "due_at": slot,
            "cycle_id": phase.cycle_id if phase else None,
            "phase_id": phase.id if phase else None,
            "research_question_id": rq_ids.get(chosen.research_question_key or ""),
            "prompt_key": chosen.key,
            "prompt_kind": chosen.kind,
            "prompt_text": chosen.text,
            "prompt_options": chosen.options,
            "status": "planned",
        }
        if (person.id, plan.project.id, slot) not in existing:
            rows.append(values)
        elif await _revive(session, values, now):
            inserted += 1
        else:
            continue
        # the slot is planned: later slots' choices see it
        bisect.insort(timeline, (slot, chosen.key))
        source = library.carry_forward_sources().get(chosen.key)
        if source is not None:
            answers.pop(source, None)  # a quote is used once
    return inserted


def _insert(session: AsyncSession) -> Any:
    """``INSERT … ON CONFLICT (person_id, project_id, slot) DO NOTHING`` for this dialect."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(Delivery.__table__).on_conflict_do_nothing(index_elements=list(UNIQUE_KEY))


async def _revive(session: AsyncSession, values: dict[str, Any], now: datetime) -> bool:
    """The slot is already in the table: plan it afresh if it was called off, never sent, for
    a reason that may come back (a person whose pause is lifted, whose leave or hours change
    back, gets that prompt). The move is conditional, so a second planner does nothing."""
    existing = await session.scalar(
        select(Delivery.id).where(
            *(getattr(Delivery, name) == values[name] for name in UNIQUE_KEY), _may_come_back()
        )
    )
    if existing is None:
        return False
    fresh = {name: value for name, value in values.items() if name not in (*UNIQUE_KEY, "status")}
    return await move(
        session,
        existing,
        "planned",
        "replanned",
        now,
        where=[_may_come_back()],
        values={**fresh, **REVIVED_RESETS},
    )


async def _timelines(
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


async def _carry_forward_answers(
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
