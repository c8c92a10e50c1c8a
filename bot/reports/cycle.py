"""Where a project's cycle is at the end of a context report's period, and the evidence-gap
table of that cycle: research question × phase, with counts of reflections and evidence files."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.reports.model import NO_QUESTION, GapCell, GapRow
from bot.review.access import Viewer, visible
from storage.models import Cycle, Person, Project, Reflection


def cycle_at(project: Project, day: date) -> Cycle | None:
    """The cycle running on ``day``, else the last one begun before it."""
    begun = [c for c in project.cycles if c.starts_on <= day]
    running = [c for c in begun if day <= c.ends_on]
    found = running or begun
    return found[-1] if found else None


def where_the_cycle_is(project: Project, day: date) -> str:
    cycle = cycle_at(project, day)
    if cycle is None:
        return "No cycle has begun yet."
    if day > cycle.ends_on:
        return f"{cycle.name} ended on {cycle.ends_on.day} {cycle.ends_on:%B %Y}."
    phase = next((p for p in cycle.phases if p.starts_on <= day <= p.ends_on), None)
    if phase is None:
        return f"{cycle.name}, between phases."
    position = cycle.phases.index(phase) + 1
    return (
        f"{cycle.name}, phase {position} of {len(cycle.phases)}: {phase.name} "
        f"({phase.starts_on.day} {phase.starts_on:%B} – {phase.ends_on.day} {phase.ends_on:%B %Y})."
    )


async def gap_table(
    session: AsyncSession,
    viewer: Viewer,
    project: Project,
    cycle: Cycle | None,
    last_day: date,
    tz: ZoneInfo,
) -> tuple[list[str], list[GapRow]]:
    """Research question × phase of the cycle: reflections and evidence files, up to the end of
    the period, of what the viewer may see."""
    if cycle is None:
        return [], []
    end = datetime.combine(last_day + timedelta(days=1), time(0), tz)
    rows = (
        await session.execute(
            select(Reflection)
            .join(Person, Person.id == Reflection.person_id)
            .where(
                Reflection.project_id == project.id,
                Reflection.cycle_id == cycle.id,
                Reflection.created_at < end,
                Person.withdrawn_at.is_(None),
                visible(viewer),
            )
            .options(selectinload(Reflection.attachments))
        )
    ).scalars()
    phase_ids = [p.id for p in cycle.phases]
    questions = [q for q in project.research_questions if q.active]
    index = {q.id: i for i, q in enumerate(questions)}
    counts = [[GapCell() for _ in phase_ids] for _ in range(len(questions) + 1)]
    for reflection in rows:
        if reflection.phase_id not in phase_ids:
            continue
        row = index.get(reflection.research_question_id or 0, len(questions))
        cell = counts[row][phase_ids.index(reflection.phase_id)]
        cell.reflections += 1
        cell.evidence += len(reflection.attachments)
    for row_cells in counts:
        for phase, cell in zip(cycle.phases, row_cells, strict=True):
            cell.started = phase.starts_on <= last_day
    gaps = [GapRow(q.text, counts[i]) for i, q in enumerate(questions)]
    gaps.append(GapRow(NO_QUESTION, counts[-1]))
    return [p.name for p in cycle.phases], gaps
