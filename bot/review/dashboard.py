"""The participation dashboard: response rate over time and answers per phase, per project.

Aggregate only: the figures come from delivery rows (answered ÷ sent + reminded + answered +
expired; skipped and cancelled left out), counted per ISO week and per phase, and nothing here
names or lists a person.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.review.access import Viewer
from storage.models import Delivery, Phase, Project

COUNTED = ("sent", "reminded", "answered", "expired")
WIDTH, HEIGHT, PAD = 640, 220, 36


@dataclass
class Week:
    monday: date
    asked: int
    answered: int

    @property
    def rate(self) -> float:
        return self.answered / self.asked if self.asked else 0.0


@dataclass
class ProjectParticipation:
    project: Project
    weeks: list[Week] = field(default_factory=list)
    phases: list[tuple[str, int]] = field(default_factory=list)  # (phase name, answers)

    @property
    def asked(self) -> int:
        return sum(w.asked for w in self.weeks)

    @property
    def answered(self) -> int:
        return sum(w.answered for w in self.weeks)

    def chart(self) -> dict[str, object]:
        """Points for an inline SVG line chart of the weekly response rate (0–100 %)."""
        weeks = self.weeks
        step = (WIDTH - 2 * PAD) / max(1, len(weeks) - 1)
        points = [
            (round(PAD + i * step, 1), round(HEIGHT - PAD - w.rate * (HEIGHT - 2 * PAD), 1))
            for i, w in enumerate(weeks)
        ]
        return {
            "width": WIDTH,
            "height": HEIGHT,
            "pad": PAD,
            "points": points,
            "polyline": " ".join(f"{x},{y}" for x, y in points),
            "labels": [
                (x, w.monday.strftime("%d %b"))
                for (x, _), w in zip(points, weeks, strict=True)
                if len(weeks) <= 8 or weeks.index(w) % max(1, len(weeks) // 6) == 0
            ],
        }


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def participation(session: AsyncSession, viewer: Viewer) -> list[ProjectParticipation]:
    allowed = viewer.project_ids()
    query = select(Project).options(selectinload(Project.partnership)).order_by(Project.name)
    if allowed is not None:
        query = query.where(Project.id.in_(sorted(allowed)))
    projects = (await session.execute(query)).scalars().all()
    if not projects:
        return []
    ids = [p.id for p in projects]
    weekly: dict[int, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    rows = await session.execute(
        select(Delivery.project_id, Delivery.slot, Delivery.status).where(
            Delivery.project_id.in_(ids), Delivery.status.in_(COUNTED)
        )
    )
    for project_id, slot, status in rows:
        bucket = weekly[project_id][_monday(slot.date())]
        bucket[0] += 1
        bucket[1] += status == "answered"
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
    out = []
    for project in projects:
        weeks = [
            Week(monday, asked, answered)
            for monday, (asked, answered) in sorted(weekly[project.id].items())
        ]
        out.append(ProjectParticipation(project, weeks, list(phases[project.id].items())))
    return out
