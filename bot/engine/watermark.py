"""The planner's watermark: a tick with nothing new costs one small query, not a re-plan.

A planning run is a pure function of what the database holds (people, memberships, projects,
cycles, phases, pauses, consent, identities, the study, the deliveries that occupy slots) and
of the horizon ``[now, now + 2 days)``. :class:`Planner` (what ``carbot run``'s engine tick
calls) remembers, after each full run, a *fingerprint* of those tables — row counts and the
newest ``updated_at`` (or id) of each, read in one query — and the earliest instant at which
any participant's next slot would enter the horizon. The next tick plans again only when

- the fingerprint differs (anything was added, changed or removed: a pause, a leave, a new
  person, a delivery called off or planned by another worker…), or
- the horizon has reached that next slot, or
- ``full_every`` has passed (the call-off scan, :func:`bot.engine.calloff.tidy_planned`, also
  looks at time passing; dispatch judges every prompt again just before it sends, so a
  call-off found late is never a prompt sent wrongly).

Otherwise it returns 0 at once: the tick with nothing new for 10,000 participants reads a
handful of aggregates instead of everyone. A worker's first tick is always a full run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.engine.deliveries import CALLED_OFF
from bot.engine.planner import plan_run
from bot.services import Services
from storage.models import (
    ChannelIdentity,
    ConsentRecord,
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
    ResearchQuestion,
    Study,
)

log = logging.getLogger(__name__)

HORIZON = timedelta(days=2)
FULL_EVERY = timedelta(minutes=10)
_TIMESTAMPED = (
    Study,
    Partnership,
    Project,
    ResearchQuestion,
    Cycle,
    Phase,
    Event,
    Person,
    Membership,
    ChannelIdentity,
)


def _aggregates() -> list[Any]:
    found: list[Any] = []
    for model in _TIMESTAMPED:
        found.append(select(func.count()).select_from(model).scalar_subquery())
        found.append(select(func.max(model.updated_at)).scalar_subquery())
    found += [
        select(func.count()).select_from(EventProject).scalar_subquery(),
        select(func.count()).select_from(ConsentRecord).scalar_subquery(),
        select(func.max(ConsentRecord.id)).scalar_subquery(),
        select(func.count(ConsentRecord.withdrawn_at)).scalar_subquery(),
        select(func.count()).select_from(Delivery).scalar_subquery(),
        select(func.max(Delivery.id)).scalar_subquery(),
        # a prompt called off, or planned again, frees or takes a slot
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.status.in_(CALLED_OFF))
        .scalar_subquery(),
        select(func.max(Delivery.status_at))
        .where(Delivery.status.in_(CALLED_OFF))
        .scalar_subquery(),
        # answers count against a monthly time budget
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.status == "answered")
        .scalar_subquery(),
        select(func.max(Reflection.id)).scalar_subquery(),
    ]
    return found


async def fingerprint(services: Services) -> tuple[Any, ...]:
    """What planning depends on in the database, as counts and newest change times."""
    async with services.sessions() as session:
        row = (await session.execute(select(*_aggregates()))).one()
    return tuple(row)


class Planner:
    """:func:`bot.engine.planner.plan_once` behind the watermark (see the module text)."""

    def __init__(self, services: Services, *, full_every: timedelta = FULL_EVERY) -> None:
        self.services = services
        self.full_every = full_every
        self._seen: tuple[Any, ...] | None = None
        self._next_entry: datetime | None = None
        self._full_at: datetime | None = None
        self.skipped = 0  # ticks that found nothing to do (for logs and the benchmark)

    async def plan(self, now: datetime) -> int:
        seen = await fingerprint(self.services)
        if (
            seen == self._seen
            and self._next_entry is not None
            and self._full_at is not None
            and now + HORIZON < self._next_entry
            and now < self._full_at
        ):
            self.skipped += 1
            return 0
        inserted, next_entry = await plan_run(self.services, now, horizon=HORIZON)
        # what was read before the run: a change made during it (or the run's own rows) is
        # seen as a change next tick, and that run finds what it must
        self._seen = seen
        self._next_entry = next_entry
        self._full_at = now + self.full_every
        return inserted
