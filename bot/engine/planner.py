"""The planning step: turn cadences and working patterns into ``planned`` delivery rows.

``plan_once(services, now)`` is called by the scheduler every minute (and by tests at a frozen
time). It inserts each delivery with ``INSERT … ON CONFLICT DO NOTHING`` on the unique key
(person, project, slot), so a restart or a second worker never plans a prompt twice; it calls
off planned deliveries that should no longer go out, and plans again a slot called off for a
reason that was since taken back — each by a move of ``bot.engine.deliveries``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypedDict, Unpack
from zoneinfo import ZoneInfoNotFoundError

from bot.engine.availability import judge, pattern_for
from bot.engine.calloff import tidy_planned
from bot.engine.plan_reads import (
    ProjectPlan,
    eligible_pages,
    project_plans,
    read_library,
    taken_slots,
    time_budget,
)
from bot.engine.plan_rows import insert_batch
from bot.evaluation.events import study_events
from bot.services import Services
from digests.timespent import budget_spent
from prompts.library import Library
from prompts.schedule import WorkingPattern, plan_slots, within_budget
from prompts.timecost import CAP
from storage.models import Person

log = logging.getLogger(__name__)

HORIZON = timedelta(days=2)  # how far ahead a run plans unless told
TAKEN_MARGIN = timedelta(days=8)  # a week either side: the cap and the gap look no further
BATCH = 200  # people read, planned and inserted at a time (one transaction)
YIELD_EVERY = 100  # people planned between two turns of the event loop
LOOKAHEAD = timedelta(days=1)  # how far past the horizon a run looks for the next slot
MONTH_MARGIN = timedelta(days=32)  # the time budget looks at whole months around the horizon


class PlanOptions(TypedDict, total=False):
    """What a planning run may be told besides "now" (both entry points take these)."""

    horizon: timedelta  # plan slots in [now, now + horizon); two days unless told
    since: datetime | None  # plan only slots from then on
    only: set[int] | None  # plan only these projects
    tidy: bool  # run the call-off scan first (the default)


async def plan_once(services: Services, now: datetime, **options: Unpack[PlanOptions]) -> int:
    """Plan every eligible person's prompts in ``[now, now + horizon)``; return rows inserted."""
    return (await plan_run(services, now, **options))[0]


async def plan_run(
    services: Services, now: datetime, **options: Unpack[PlanOptions]
) -> tuple[int, datetime]:
    """:func:`plan_once`, saying also when the next slot could enter the horizon (the earliest
    one anyone would have in the day after it; with nothing changed, no run before then can
    plan anything). ``since`` plans only slots from then on, ``only`` only these projects,
    ``tidy=False`` skips the call-off scan (:class:`bot.engine.watermark.Planner` uses them)."""
    horizon = options.get("horizon", HORIZON)
    since, only = options.get("since"), options.get("only")
    if now.tzinfo is None:
        raise ValueError("plan_once needs a timezone-aware now")
    now = now.astimezone(UTC)
    end = now + horizon
    start = max(now, since) if since is not None else now
    library = await read_library(services)
    budget = await time_budget(services)
    if options.get("tidy", True):
        await tidy_planned(services, now)
    async with services.sessions() as session:
        projects = await project_plans(session, services.settings.default_timezone)
        if only is not None:
            projects = {key: plan for key, plan in projects.items() if key in only}
        events = await study_events(session)
    for project_id, found in list(projects.items()):
        mine = tuple(e for e in events if project_id in e.project_ids)
        if mine:
            projects[project_id] = replace(found, evaluations=mine)
    run = _Run(services, library, now, start, end, budget)
    for project_id in sorted(projects):
        async for people in eligible_pages(services, project_id, BATCH):
            await run.plan_page(projects[project_id], people)
    if run.inserted:
        log.info(
            "planned %d deliveries", run.inserted, extra={"action": "plan", "count": run.inserted}
        )
    return run.inserted, run.next_entry


class _Run:
    """One planning run, a page of people at a time: each page's slots are chosen and
    inserted before the next page is read. What a person's slots depend on across their
    projects — the slots they already have (``taken``) and their time budget (``spent``) — is
    read the first time the run meets them and kept, with this run's new slots, to the end."""

    def __init__(
        self,
        services: Services,
        library: Library,
        now: datetime,
        start: datetime,
        end: datetime,
        budget: int | None,
    ) -> None:
        self.services = services
        self.library = library
        self.now, self.start, self.end = now, start, end
        self.budget = budget
        self.taken: dict[int, list[datetime]] = defaultdict(list)
        self.spent: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
        self.met: set[int] = set()
        self.next_entry = end + LOOKAHEAD
        self.inserted = 0

    async def _meet(self, people: list[Person]) -> None:
        new = sorted({person.id for person in people} - self.met)
        if not new:
            return
        now, end = self.now, self.end
        async with self.services.sessions() as session:
            taken = await taken_slots(session, new, now - TAKEN_MARGIN, end + TAKEN_MARGIN)
            spent = (
                await budget_spent(session, new, now - MONTH_MARGIN, end + MONTH_MARGIN)
                if self.budget is not None
                else {}
            )
        for person_id in new:
            self.taken[person_id] = taken.get(person_id, [])
            self.spent[person_id] = spent.get(person_id, [])
        self.met.update(new)

    async def plan_page(self, plan: ProjectPlan, people: list[Person]) -> None:
        await self._meet(people)
        work: list[tuple[ProjectPlan, Person, WorkingPattern, list[datetime]]] = []
        for number, person in enumerate(people):
            if number % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a long run leaves the event loop to sends meanwhile
            planned = self._slots(plan, person)
            if planned is not None:
                work.append((plan, person, *planned))
        if work:
            self.inserted += await insert_batch(self.services, self.library, work, self.now)

    def _slots(
        self, plan: ProjectPlan, person: Person
    ) -> tuple[WorkingPattern, list[datetime]] | None:
        """The person's slots to plan in this project, or None; moves ``next_entry``."""
        try:
            pattern = pattern_for(person, plan.project, self.services.settings.default_timezone)
        except (ValueError, ZoneInfoNotFoundError) as exc:
            log.warning("not planning for person %s: %s", person.key, exc)
            return None
        taken = self.taken[person.id]
        seed = f"{person.key}:{plan.project.slug}"
        slots = plan_slots(
            plan.cadence, pattern, plan.phase_ranges, self.start, self.end, seed=seed, taken=taken
        )
        ahead = plan_slots(
            plan.cadence,
            pattern,
            plan.phase_ranges,
            self.end,
            self.next_entry,
            seed=seed,
            taken=[*taken, *slots],
        )
        if ahead:
            self.next_entry = min(self.next_entry, min(ahead))
        slots = [slot for slot in slots if _may_plan(plan, person, pattern, slot, self.now)]
        slots = within_budget(slots, pattern.zone, self.spent[person.id], self.budget, CAP)
        if not slots:
            return None
        self.spent[person.id].extend((slot, CAP) for slot in slots)
        taken.extend(slots)  # the person's other projects keep clear of them
        return pattern, slots


def _may_plan(
    plan: ProjectPlan, person: Person, pattern: WorkingPattern, slot: datetime, now: datetime
) -> bool:
    """The one verdict agrees: an eligible person (the query chose them) may have this slot."""
    decided = judge(
        person, plan.project, slot, now, phases=plan.phase_ranges, in_project=True, pattern=pattern
    )
    return not decided.called_off
