"""When a person works: their zone, working days and hours, bank holidays and leave, and
whether (or when next) a moment is working time — pure functions, like :mod:`prompts.schedule`.

A local time that does not exist (the hour skipped when clocks go forward) is moved to the first
real moment after it; a local time that happens twice (when clocks go back) means its first
occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

# How far ahead to look for the next working moment (a person on a long pause has none).
SEARCH_DAYS = 400


@dataclass(frozen=True)
class WorkingPattern:
    """When a person may be asked something: zone, working days and hours, holidays, pauses."""

    zone: ZoneInfo
    working_days: frozenset[int]  # Mon=0
    starts: time
    ends: time
    pauses: tuple[tuple[date, date], ...] = ()  # inclusive
    holidays: bool = True  # Scottish bank holidays are days off


@lru_cache(maxsize=64)
def scottish_bank_holidays(year: int) -> frozenset[date]:
    """Scottish bank holidays of ``year`` (the ``holidays`` package, GB subdivision SCT)."""
    return frozenset(holiday_calendars.country_holidays("GB", subdiv="SCT", years=year))


def is_bank_holiday(day: date) -> bool:
    return day in scottish_bank_holidays(day.year)


def _pause(start: Any, end: Any) -> tuple[date, date] | None:
    try:
        first = start if isinstance(start, date) else date.fromisoformat(str(start))
        last = end if isinstance(end, date) else date.fromisoformat(str(end))
    except ValueError:
        return None
    return (first, last) if first <= last else None


def leave_periods(person: Any) -> tuple[tuple[date, date], ...]:
    """A person's leave (``pauses``: ``{"from", "until"}`` ISO dates, inclusive), in order."""
    periods: list[tuple[date, date]] = []
    for entry in getattr(person, "pauses", None) or []:
        if isinstance(entry, dict):
            pause = _pause(entry.get("from"), entry.get("until"))
            if pause is not None:
                periods.append(pause)
    return tuple(sorted(periods))


def working_pattern(person: Any, partnership_zone: str) -> WorkingPattern:
    """The working pattern of a ``storage.models.Person`` (or anything with its attributes).

    ``timezone`` None means the partnership's zone; ``pauses`` is a list of ``{"from", "until"}``
    ISO dates (inclusive); ``paused_until`` pauses everything up to and including that date.
    """
    pauses = list(leave_periods(person))
    paused_until = getattr(person, "paused_until", None)
    if paused_until is not None:
        pauses.append((date.min, paused_until))
    days = getattr(person, "working_days", None)
    return WorkingPattern(
        zone=ZoneInfo(getattr(person, "timezone", None) or partnership_zone),
        working_days=frozenset(int(d) for d in (days if days is not None else range(5))),
        starts=getattr(person, "work_starts", None) or time(9, 0),
        ends=getattr(person, "work_ends", None) or time(17, 0),
        pauses=tuple(sorted(pauses)),
    )


def is_paused(day: date, pattern: WorkingPattern) -> bool:
    return any(first <= day <= last for first, last in pattern.pauses)


def is_working_day(day: date, pattern: WorkingPattern) -> bool:
    """A working weekday that is neither a bank holiday (when they count) nor paused."""
    if day.weekday() not in pattern.working_days:
        return False
    if pattern.holidays and is_bank_holiday(day):
        return False
    return not is_paused(day, pattern)


def require_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: schedule times must carry a zone")


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of local ``day`` ``at`` in ``zone``.

    A nonexistent local time (inside the spring-forward gap, e.g. 01:30 on the last Sunday of
    March in London) is read with the offset before the jump, so it lands as far after the jump
    as it was into the gap (02:30 BST); a repeated one (autumn) means its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=zone).replace(fold=0).astimezone(UTC)


def is_working_time(moment: datetime, pattern: WorkingPattern) -> bool:
    """True when ``moment`` falls inside the person's working hours on a working day."""
    require_aware(moment)
    local = moment.astimezone(pattern.zone)
    if not is_working_day(local.date(), pattern):
        return False
    return pattern.starts <= local.time().replace(tzinfo=None) < pattern.ends


def next_working_moment(moment: datetime, pattern: WorkingPattern) -> datetime | None:
    """``moment`` itself if it is working time, else the start of the next working period."""
    require_aware(moment)
    if is_working_time(moment, pattern):
        return moment.astimezone(UTC)
    local = moment.astimezone(pattern.zone)
    day = local.date()
    if local.time().replace(tzinfo=None) >= pattern.starts:
        day += timedelta(days=1)
    for _ in range(SEARCH_DAYS):
        if is_working_day(day, pattern):
            start = local_instant(day, pattern.starts, pattern.zone)
            if is_working_time(start, pattern):
                return start
        day += timedelta(days=1)
    return None
