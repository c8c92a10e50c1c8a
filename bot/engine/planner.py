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
from zoneinfo import ZoneInfoNotFoundError

from bot.engine.availability import judge, pattern_for
from bot.engine.calloff import tidy_planned
from bot.engine.plan_reads import (
    ProjectPlan,
    _eligible_members,
    _library,
    _projects,
    _taken,
    _time_budget,
)
from bot.engine.plan_rows import _insert_batch
from bot.evaluation.events import study_events
from bot.services import Services
from digests.timespent import budget_spent
from prompts.schedule import WorkingPattern, plan_slots, within_budget
from prompts.timecost import CAP
from storage.models import Person

log = logging.getLogger(__name__)

TAKEN_MARGIN = timedelta(days=8)  # a week either side: the cap and the gap look no further
BATCH = 200  # people-and-projects planned per transaction
YIELD_EVERY = 100  # people planned between two turns of the event loop
LOOKAHEAD = timedelta(days=1)  # how far past the horizon a run looks for the next slot
MONTH_MARGIN = timedelta(days=32)  # the time budget looks at whole months around the horizon


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
