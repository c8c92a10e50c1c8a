"""The events an evaluation is about: a small lookup over the study's ``events`` table.

The study file's ``events:`` (retreats and local events, the projects taking part) are loaded
into the tables ``events`` and ``event_projects``. Evaluations only need a few of their columns,
read here through lightweight table clauses, so this module is the one place that knows where
events live. A database without those tables has no events.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Boolean, Date, Integer, String, column, inspect, select, table
from sqlalchemy.ext.asyncio import AsyncSession

# after an event ends, its evaluation is asked for this long
EVALUATION_DAYS = 28

EVENTS = table(
    "events",
    column("id", Integer),
    column("key", String),
    column("name", String),
    column("kind", String),
    column("starts_on", Date),
    column("ends_on", Date),
    column("active", Boolean),
)
EVENT_PROJECTS = table("event_projects", column("event_id", Integer), column("project_id", Integer))


@dataclass(frozen=True)
class EventInfo:
    """What an evaluation needs of an event."""

    key: str
    name: str
    kind: str
    starts_on: date
    ends_on: date  # inclusive
    project_ids: frozenset[int]

    def evaluates_on(self, day: date) -> bool:
        """Whether ``day`` (a local date) lies in the days after the event when its evaluation
        is asked: from the day after it ends, for :data:`EVALUATION_DAYS` days."""
        return self.ends_on < day <= self.ends_on + timedelta(days=EVALUATION_DAYS)


async def _has_events(session: AsyncSession) -> bool:
    def check(sync_session: object) -> bool:
        connection = sync_session.connection()  # type: ignore[attr-defined]
        found = inspect(connection)
        return bool(found.has_table("events") and found.has_table("event_projects"))

    return await session.run_sync(check)


async def study_events(session: AsyncSession, *, active_only: bool = True) -> list[EventInfo]:
    """Every event of the study with the ids of the projects taking part, oldest first."""
    if not await _has_events(session):
        return []
    query = select(EVENTS)
    if active_only:
        query = query.where(EVENTS.c.active.is_(True))
    rows = (await session.execute(query.order_by(EVENTS.c.ends_on, EVENTS.c.key))).all()
    links = await session.execute(select(EVENT_PROJECTS.c.event_id, EVENT_PROJECTS.c.project_id))
    taking_part: dict[int, set[int]] = defaultdict(set)
    for event_id, project_id in links.all():
        taking_part[event_id].add(project_id)
    return [
        EventInfo(
            key=row.key,
            name=row.name,
            kind=row.kind,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            project_ids=frozenset(taking_part[row.id]),
        )
        for row in rows
    ]


async def find_event(session: AsyncSession, key: str) -> EventInfo | None:
    """The event with this key (active or not), or None."""
    return next((e for e in await study_events(session, active_only=False) if e.key == key), None)
