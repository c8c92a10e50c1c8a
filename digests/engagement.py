"""A project's engagement in a digest's week: how many were asked, how many answered, the
answer rate of the weeks before, and the month's median time spent — counted from delivery rows,
in aggregate only (nothing here knows who did not answer)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from digests.model import COUNTED, HISTORY_WEEKS, Engagement, WeekRate
from digests.schedule import Week
from digests.timespent import month_of, project_medians
from storage.models import Delivery


async def week_engagement(
    session: AsyncSession, project_id: int, week: Week, tz: ZoneInfo
) -> Engagement:
    first = week.shifted(-(HISTORY_WEEKS - 1))
    start, _ = first.bounds(tz)
    _, end = week.bounds(tz)
    rows = (
        await session.execute(
            select(Delivery.person_id, Delivery.slot, Delivery.status).where(
                Delivery.project_id == project_id,
                Delivery.slot >= start,
                Delivery.slot < end,
                Delivery.status.in_(COUNTED),
            )
        )
    ).all()
    weeks = [first.shifted(i) for i in range(HISTORY_WEEKS)]
    asked: dict[Week, int] = defaultdict(int)
    answered: dict[Week, int] = defaultdict(int)
    prompted: set[int] = set()
    responders: set[int] = set()
    for person_id, slot, status in rows:
        bucket = Week.containing(slot.astimezone(tz).date())
        asked[bucket] += 1
        if status == "answered":
            answered[bucket] += 1
        if bucket == week:
            prompted.add(person_id)
            if status == "answered":
                responders.add(person_id)
    history = [WeekRate(label=w.label, asked=asked[w], answered=answered[w]) for w in weeks]
    month = month_of(end - timedelta(microseconds=1), tz)
    month_start = datetime.combine(month, time(0), tzinfo=tz)
    medians = await project_medians(session, [project_id], tz, month_start, end)
    found = next((m for m in medians.get(project_id, []) if m.month == month), None)
    return Engagement(
        len(prompted),
        len(responders),
        answered[week],
        history,
        month_minutes=found.median_minutes if found is not None else None,
        month_label=f"{month:%B %Y}",
    )
