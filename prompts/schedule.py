"""When to ask: pure functions of (cadence, a person's working pattern, times) → UTC times.

Nothing here reads a database or a clock. Local times are worked out in the person's zone with
``zoneinfo``; everything that goes in or comes out is a timezone-aware datetime, and everything
that comes out is in UTC. A local time that does not exist (the hour skipped when clocks go
forward) is moved to the first real moment after it; a local time that happens twice (when clocks
go back) means its first occurrence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from prompts.cadence import WEEKDAYS, Cadence
from prompts.working import (
    SEARCH_DAYS,
    WorkingPattern,
    is_bank_holiday,
    is_paused,
    is_working_day,
    is_working_time,
    leave_periods,
    local_instant,
    next_working_moment,
    require_aware,
    scottish_bank_holidays,
    working_pattern,
)

SNOOZE_LATER = timedelta(hours=3)
SNOOZE_TOMORROW_OFFSET = timedelta(hours=1)

Phases = Sequence[tuple[date, date]]


def expires_at(sent_at: datetime, cadence: Cadence) -> datetime:
    """When a sent prompt stops accepting answers."""
    require_aware(sent_at)
    return (sent_at + timedelta(hours=cadence.answer_window_hours)).astimezone(UTC)


def reminder_at(sent_at: datetime, cadence: Cadence, pattern: WorkingPattern) -> datetime | None:
    """When to send the one gentle reminder for a prompt sent at ``sent_at``.

    The first working moment at or after ``sent_at + reminder_after_hours`` that is still before
    the prompt expires; None when reminders are off or no such moment is left.
    """
    require_aware(sent_at)
    if cadence.reminder_after_hours is None:
        return None
    due = next_working_moment(sent_at + timedelta(hours=cadence.reminder_after_hours), pattern)
    if due is None or due >= expires_at(sent_at, cadence):
        return None
    return due


def snooze_until(
    now: datetime, option: Literal["later", "tomorrow"], pattern: WorkingPattern
) -> datetime:
    """When a snoozed prompt comes back.

    ``later``: three hours on, if that is still inside today's working hours, else the start of
    the next working period. ``tomorrow``: an hour into the next working day after today.
    """
    require_aware(now)
    today = now.astimezone(pattern.zone).date()
    if option == "later":
        later = now + SNOOZE_LATER
        if later.astimezone(pattern.zone).date() == today and is_working_time(later, pattern):
            return later.astimezone(UTC)
        found = next_working_moment(later, pattern)
    elif option == "tomorrow":
        found = None
        day = today + timedelta(days=1)
        for _ in range(SEARCH_DAYS):
            if is_working_day(day, pattern):
                found = _early_in_day(day, pattern)
                if found is not None:
                    break
            day += timedelta(days=1)
    else:
        raise ValueError(f"unknown snooze option {option!r}")
    # No working time left at all (a pause with no end in sight): a day later, as asked.
    return found if found is not None else (now + timedelta(days=1)).astimezone(UTC)


def _early_in_day(day: date, pattern: WorkingPattern) -> datetime | None:
    start = local_instant(day, pattern.starts, pattern.zone)
    end = local_instant(day, pattern.ends, pattern.zone)
    offset = min(SNOOZE_TOMORROW_OFFSET, (end - start) / 2)
    moment = start + offset
    return moment if is_working_time(moment, pattern) else next_working_moment(start, pattern)


# ── planning slots ──────────────────────────────────────────────────────────────────────────


def _fraction(*parts: str) -> float:
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _time_of(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _week_days(cadence: Cadence, monday: date, seed: str) -> list[int]:
    """The weekdays (Mon=0) asked about in the week starting ``monday``: all of the cadence's
    weekdays, or ``per_week`` of them drawn (deterministically) when it names more."""
    chosen = sorted({WEEKDAYS.index(d) for d in cadence.weekdays})
    if cadence.per_week < len(chosen):
        ranked = sorted(chosen, key=lambda d: _fraction(seed, "week", monday.isoformat(), str(d)))
        chosen = sorted(ranked[: cadence.per_week])
    return chosen


def _week_dates(
    cadence: Cadence, pattern: WorkingPattern, phases: Phases, monday: date, seed: str
) -> list[date]:
    """The dates asked on in the ISO week starting ``monday``, in date order: each of the
    week's weekdays, or the next free working day inside a phase later that week, or none."""
    next_monday = monday + timedelta(days=7)
    used: set[date] = set()
    for weekday in _week_days(cadence, monday, seed):
        day = monday + timedelta(days=weekday)
        while day < next_monday and (
            day in used or not (is_working_day(day, pattern) and _in_phase(day, phases))
        ):
            day += timedelta(days=1)
        if day < next_monday:
            used.add(day)
    return sorted(used)


def _in_phase(day: date, phases: Phases) -> bool:
    return any(first <= day <= last for first, last in phases)


def _local_time(cadence: Cadence, pattern: WorkingPattern, day: date, seed: str) -> time:
    """The local time asked for on ``day``: fixed, or drawn within the window; both clipped to
    working hours."""
    work_lo, work_hi = _minutes(pattern.starts), _minutes(pattern.ends)
    if work_hi <= work_lo:
        work_hi = work_lo + 1
    if cadence.at is not None:
        wanted = _minutes(cadence.at)
        return _time_of(min(max(wanted, work_lo), max(work_lo, work_hi - 15)))
    lo = max(_minutes(cadence.window[0]), work_lo)
    hi = min(_minutes(cadence.window[1]), work_hi)
    if hi <= lo:  # the window misses this person's hours entirely: anywhere in their hours
        lo, hi = work_lo, max(work_lo + 1, work_hi - 15)
    return _time_of(lo + int(_fraction(seed, day.isoformat()) * (hi - lo)))


def _ceil_minute(moment: datetime) -> datetime:
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)


def _fits(candidate: datetime, others: Iterable[datetime], gap: timedelta) -> bool:
    return all(abs(candidate - other) >= gap for other in others if other != candidate)


def _place(
    day: date,
    cadence: Cadence,
    pattern: WorkingPattern,
    seed: str,
    others: list[datetime],
) -> datetime | None:
    """The slot on ``day``, moved later within the day if it is too close to another prompt."""
    gap = timedelta(hours=cadence.min_gap_hours)
    candidate = local_instant(day, _local_time(cadence, pattern, day, seed), pattern.zone)
    if not is_working_time(candidate, pattern):
        return None
    if candidate in others or _fits(candidate, others, gap):
        return candidate
    latest_clash = max(o for o in others if abs(candidate - o) < gap)
    moved = _ceil_minute(latest_clash + gap)
    if (
        moved.astimezone(pattern.zone).date() == day
        and is_working_time(moved, pattern)
        and _fits(moved, others, gap)
    ):
        return moved
    return None


def plan_slots(
    cadence: Cadence,
    pattern: WorkingPattern,
    phases: Phases,
    start: datetime,
    end: datetime,
    *,
    seed: str,
    taken: Sequence[datetime] = (),
) -> list[datetime]:
    """A person's prompt times (UTC) in ``[start, end)`` under ``cadence``.

    Each week, the cadence's weekdays; a weekday that is not a working day (day off, bank
    holiday, pause) or lies outside every phase moves to the next such day in the same ISO week,
    or is dropped. The time is fixed (``at``) or drawn within ``window`` from ``seed`` and the
    local date, so asking again gives the same instants. Times keep ``min_gap_hours`` from each
    other and from ``taken`` (prompts already planned or sent, of any project), and no ISO week
    holds more than ``weekly_cap`` prompts, ``taken`` included. Instants already in ``taken`` are
    not returned again.
    """
    require_aware(start)
    require_aware(end)
    if end <= start or not phases:
        return []
    zone = pattern.zone
    taken_utc = sorted({t.astimezone(UTC) for t in taken})
    first_day = start.astimezone(zone).date()
    last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    monday = first_day - timedelta(days=first_day.weekday())
    found: list[datetime] = []
    while monday <= last_day:
        week_end = monday + timedelta(days=7)
        week_taken = [t for t in taken_utc if monday <= t.astimezone(zone).date() < week_end]
        found.extend(
            _plan_week(cadence, pattern, phases, monday, start, end, seed, taken_utc, week_taken)
        )
        monday = week_end
    return found


def within_budget(
    slots: Sequence[datetime],
    zone: ZoneInfo,
    spent: Iterable[tuple[datetime, int]],
    budget_seconds: int | None,
    reserve_seconds: int,
) -> list[datetime]:
    """The monthly time budget, as the weekly cap is for counts: of ``slots`` (in order), those
    that keep every local calendar month's seconds within ``budget_seconds``. ``spent`` gives
    what each month already holds, as (slot, seconds); each new slot holds ``reserve_seconds``
    (the most its answer can be estimated at), so answers cannot take a month over later."""
    if budget_seconds is None:
        return list(slots)
    used: dict[tuple[int, int], int] = {}
    for when, seconds in spent:
        local = when.astimezone(zone)
        used[(local.year, local.month)] = used.get((local.year, local.month), 0) + seconds
    kept: list[datetime] = []
    for slot in sorted(slots):
        local = slot.astimezone(zone)
        month = (local.year, local.month)
        if used.get(month, 0) + reserve_seconds > budget_seconds:
            continue
        used[month] = used.get(month, 0) + reserve_seconds
        kept.append(slot)
    return kept


def _plan_week(
    cadence: Cadence,
    pattern: WorkingPattern,
    phases: Phases,
    monday: date,
    start: datetime,
    end: datetime,
    seed: str,
    taken: list[datetime],
    week_taken: list[datetime],
) -> list[datetime]:
    count = len(week_taken)
    planned: list[datetime] = []
    for day in _week_dates(cadence, pattern, phases, monday, seed):
        # A day lying wholly before the planning window was never planned: it neither counts
        # towards the cap nor pushes later prompts (unless it is in ``taken``, as it then was).
        if local_instant(day + timedelta(days=1), time(0), pattern.zone) <= start:
            continue
        if local_instant(day, time(0), pattern.zone) >= end:
            break  # after the window: planned on a later call (nothing before depends on it)
        slot = _place(day, cadence, pattern, seed, taken + planned)
        if slot is None:
            continue
        if slot in week_taken:
            continue  # already planned: counted in ``count``
        if slot < start:
            continue
        if count >= cadence.weekly_cap:
            break
        count += 1
        planned.append(slot)
    return [s for s in planned if start <= s < end]


__all__ = [
    "SEARCH_DAYS",
    "Phases",
    "WorkingPattern",
    "expires_at",
    "is_bank_holiday",
    "is_paused",
    "is_working_day",
    "is_working_time",
    "leave_periods",
    "local_instant",
    "next_working_moment",
    "plan_slots",
    "reminder_at",
    "scottish_bank_holidays",
    "snooze_until",
    "within_budget",
    "working_pattern",
]
