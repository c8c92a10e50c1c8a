"""Where a project's cycle stands on a day: current phase, days left, what comes next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Cycle, Phase


@dataclass
class PhaseStep:
    name: str
    starts_on: date
    ends_on: date
    state: str  # past, current, future


@dataclass
class Timeline:
    on: date
    cycle: str
    phase: str | None  # None: between phases, or before/after the cycle
    days_left: int | None  # days of the current phase left, today included
    next_phase: str | None
    next_starts: date | None
    steps: list[PhaseStep] = field(default_factory=list)


async def timeline_for(
    session: AsyncSession, project_id: int, on: date
) -> tuple[Timeline | None, dict[int, str], dict[int, int]]:
    """The project's timeline on ``on``, with phase names and a global phase order by id."""
    rows = (
        await session.execute(
            select(Phase, Cycle)
            .join(Cycle, Phase.cycle_id == Cycle.id)
            .where(Cycle.project_id == project_id)
            .order_by(Cycle.position, Cycle.starts_on, Phase.position, Phase.starts_on)
        )
    ).all()
    names = {phase.id: phase.name for phase, _ in rows}
    order = {phase.id: index for index, (phase, _) in enumerate(rows)}
    if not rows:
        cycles = list(
            await session.scalars(
                select(Cycle).where(Cycle.project_id == project_id).order_by(Cycle.starts_on)
            )
        )
        current = next((c for c in cycles if c.starts_on <= on <= c.ends_on), None)
        if current is None:
            return None, names, order
        return Timeline(on, current.name, None, None, None, None), names, order

    phases = [phase for phase, _ in rows]
    cycle_of = {phase.id: cycle for phase, cycle in rows}
    current_phase = next((p for p in phases if p.starts_on <= on <= p.ends_on), None)
    upcoming = next((p for p in phases if p.starts_on > on), None)
    if current_phase is not None:
        cycle = cycle_of[current_phase.id]
    elif upcoming is not None:
        cycle = cycle_of[upcoming.id]
    else:
        cycle = cycle_of[phases[-1].id]
    steps = [
        PhaseStep(
            p.name,
            p.starts_on,
            p.ends_on,
            "current" if p is current_phase else ("past" if p.ends_on < on else "future"),
        )
        for p in phases
        if cycle_of[p.id].id == cycle.id
    ]
    timeline = Timeline(
        on=on,
        cycle=cycle.name,
        phase=current_phase.name if current_phase else None,
        days_left=(current_phase.ends_on - on).days + 1 if current_phase else None,
        next_phase=upcoming.name if upcoming else None,
        next_starts=upcoming.starts_on if upcoming else None,
        steps=steps,
    )
    return timeline, names, order
