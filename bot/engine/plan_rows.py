"""What a planning run writes: each slot's prompt chosen and its ``planned`` row inserted with
``INSERT … ON CONFLICT DO NOTHING`` on the unique key, or a slot already in the table planned
again when it may come back (moved from :mod:`bot.engine.planner`)."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.deliveries import move
from bot.engine.plan_reads import (
    ProjectPlan,
    carry_forward_answers,
    existing_keys,
    may_come_back,
    timelines,
)
from bot.evaluation.plan import item_due, render_item
from bot.services import Services
from prompts.context import context_prompt
from prompts.library import ChosenPrompt, Library, neighbours, prompt_set
from prompts.schedule import WorkingPattern
from storage.db import transaction
from storage.models import Delivery, Person, Phase

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


def delivery_values(
    person_id: int,
    project_id: int,
    slot: datetime,
    phase: Phase | None,
    chosen: ChosenPrompt,
    research_questions: Mapping[str, int],
) -> dict[str, Any]:
    """A delivery row's values for the prompt ``chosen`` for ``slot``: whose, which project's,
    due at its slot, in the cycle and phase of that day, tied to the research question the
    prompt serves (``research_questions``: key → id) and the prompt as it will be sent. The
    planner's rows and the demo's seeded ones are built here, so they cannot drift apart."""
    return {
        "person_id": person_id,
        "project_id": project_id,
        "slot": slot,
        "due_at": slot,
        "cycle_id": phase.cycle_id if phase else None,
        "phase_id": phase.id if phase else None,
        "research_question_id": research_questions.get(chosen.research_question_key or ""),
        "prompt_key": chosen.key,
        "prompt_kind": chosen.kind,
        "prompt_text": chosen.text,
        "prompt_options": chosen.options,
    }


async def insert_batch(
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
        recent = await timelines(session, people, now)
        answers = await carry_forward_answers(
            session, library, {(person.id, plan.project.id) for plan, person, _, _ in work}
        )
        slots_in = [slot for _, _, _, slots in work for slot in slots]
        existing = await existing_keys(session, people, min(slots_in), max(slots_in))
        rows: list[dict[str, Any]] = []
        for plan, person, pattern, slots in work:
            inserted += await _insert_person(
                session,
                library,
                plan,
                person,
                pattern,
                slots,
                recent[person.id],
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
    existing: dict[tuple[int, int, datetime], bool],
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
            **delivery_values(person.id, plan.project.id, slot, phase, chosen, rq_ids),
            "status": "planned",
        }
        returns = existing.get((person.id, plan.project.id, slot))
        if returns is None:
            rows.append(values)
        elif returns and await _revive(session, values, now):
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
            *(getattr(Delivery, name) == values[name] for name in UNIQUE_KEY), may_come_back()
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
        where=[may_come_back()],
        values={**fresh, **REVIVED_RESETS},
    )
