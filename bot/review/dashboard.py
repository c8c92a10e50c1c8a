"""The participation dashboard: response rate over time and answers per phase, per project.

Aggregate only: the figures come from delivery rows (answered ÷ answered + expired; skipped
and cancelled left out), counted per ISO week and per phase, plus the median estimated
answering time per participant per month (``digests.timespent``); nothing here names or
lists a person. A prompt still open (sent, reminded) is not yet unanswered, so a week's
rate counts settled prompts only; the current, unfinished week is shown as "so far".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.review.access import Viewer
from digests.timespent import MonthMedian, project_medians
from storage.models import Delivery, Event, EventProject, Phase, Project

COUNTED = ("sent", "reminded", "answered", "expired")
OPEN = ("sent", "reminded")
# The chart is laid out in percentages of its width and pixels of its height, so that its text
# keeps its real size (no viewBox scaling) on a phone and on a desktop alike.
HEIGHT, TOP, BOTTOM = 220, 24, 36
LEFT, RIGHT = 6.0, 96.0  # per cent of the width


@dataclass
class Week:
    monday: date
    asked: int
    answered: int
    open: int = 0  # sent or reminded, still waiting for an answer
    so_far: bool = False  # the current, unfinished week

    @property
    def settled(self) -> int:
        return self.asked - self.open

    @property
    def rate(self) -> float:
        return self.answered / self.settled if self.settled else 0.0


@dataclass
class ProjectParticipation:
    project: Project
    weeks: list[Week] = field(default_factory=list)
    phases: list[tuple[str, int]] = field(default_factory=list)  # (phase name, answers)
    # median estimated minutes per participant per month (None: held back, small n)
    time: list[MonthMedian] = field(default_factory=list)

    @property
    def asked(self) -> int:
        return sum(w.asked for w in self.weeks)

    @property
    def answered(self) -> int:
        return sum(w.answered for w in self.weeks)

    @property
    def open(self) -> int:
        return sum(w.open for w in self.weeks)

    def chart(self) -> Chart:
        """An inline SVG line chart of the weekly response rate (0–100 %).

        A week with nothing settled yet (the current week on a Monday) is left out; the current
        week otherwise ends the line dashed, its point hollow and its label "so far".
        """
        weeks = [w for w in self.weeks if w.settled]
        step = (RIGHT - LEFT) / max(1, len(weeks) - 1)
        inner = HEIGHT - TOP - BOTTOM
        points = [
            ChartPoint(
                x=round(LEFT + i * step, 2),
                y=round(TOP + (1 - w.rate) * inner, 1),
                week=w,
                # at most five labels, evenly spaced, counted back from the latest week
                labelled=(len(weeks) - 1 - i) % max(1, -(-len(weeks) // 4)) == 0,
            )
            for i, w in enumerate(weeks)
        ]
        grid = [(pct, round(TOP + (1 - pct / 100) * inner, 1)) for pct in (0, 50, 100)]
        return Chart(HEIGHT, points, list(pairwise(points)), grid)


@dataclass(frozen=True)
class ChartPoint:
    x: float  # per cent of the width
    y: float  # pixels from the top
    week: Week
    labelled: bool


@dataclass(frozen=True)
class Chart:
    height: int
    points: list[ChartPoint]
    segments: list[tuple[ChartPoint, ChartPoint]]
    grid: list[tuple[int, float]]  # (per cent, y)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def participation(
    session: AsyncSession, viewer: Viewer, today: date
) -> list[ProjectParticipation]:
    """Each project's weekly figures; ``today``'s week is the one "so far"."""
    allowed = viewer.project_ids()
    query = select(Project).options(selectinload(Project.partnership)).order_by(Project.name)
    if allowed is not None:
        query = query.where(Project.id.in_(sorted(allowed)))
    projects = (await session.execute(query)).scalars().all()
    if not projects:
        return []
    ids = [p.id for p in projects]
    this_week = _monday(today)
    weekly: dict[int, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    rows = await session.execute(
        select(Delivery.project_id, Delivery.slot, Delivery.status).where(
            Delivery.project_id.in_(ids), Delivery.status.in_(COUNTED)
        )
    )
    for project_id, slot, status in rows:
        bucket = weekly[project_id][_monday(slot.date())]
        bucket[0] += 1
        bucket[1] += status == "answered"
        bucket[2] += status in OPEN  # not unanswered yet: still waiting for an answer
    phase_rows = await session.execute(
        select(Delivery.project_id, Phase.name, Phase.position, func.count(Delivery.id))
        .join(Phase, Phase.id == Delivery.phase_id)
        .where(Delivery.project_id.in_(ids), Delivery.status == "answered")
        .group_by(Delivery.project_id, Phase.name, Phase.position)
        .order_by(Phase.position)
    )
    phases: dict[int, dict[str, int]] = defaultdict(dict)
    for project_id, name, _position, number in phase_rows:
        phases[project_id][name] = phases[project_id].get(name, 0) + number
    medians = await project_medians(session, ids, ZoneInfo(viewer.timezone))
    out = []
    for project in projects:
        weeks = [
            Week(monday, asked, answered, still_open, so_far=monday == this_week)
            for monday, (asked, answered, still_open) in sorted(weekly[project.id].items())
        ]
        out.append(
            ProjectParticipation(
                project, weeks, list(phases[project.id].items()), medians.get(project.id, [])
            )
        )
    return out


async def events_by_project(
    session: AsyncSession, project_ids: list[int]
) -> dict[int, list[Event]]:
    """The active events each project takes part in, in date order (for its context reports)."""
    found: dict[int, list[Event]] = defaultdict(list)
    if not project_ids:
        return found
    rows = await session.execute(
        select(EventProject.project_id, Event)
        .join(Event, Event.id == EventProject.event_id)
        .where(EventProject.project_id.in_(project_ids), Event.active.is_(True))
        .order_by(Event.starts_on)
    )
    for project_id, event in rows.all():
        found[project_id].append(event)
    return found
