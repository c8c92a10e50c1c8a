"""When digests are due, and which week they cover. Pure: options and times in, weeks out.

A lead's weekly digest covers the previous ISO week *in the lead's time zone* and is due at the
schedule's weekday and time (default Monday 08:00) of the following week. "What we heard" covers
the current week and is due at its own moment (default Friday 15:00). Options come from
``Study.options["digest"]``, overridden key by key by ``Project.digest``::

    digest: {weekday: mon, time: "08:00", empty_week: note,
             heard: {weekday: fri, time: "15:00"}, plan_prompts: [now-what]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EmptyWeek = Literal["note", "skip"]

_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Prompts whose answers are "what the team said it would try" (Rolfe's "Now what?").
DEFAULT_PLAN_PROMPTS = ("now-what", "now_what", "next-step", "will-try")


def parse_weekday(value: object) -> int:
    """``mon``/``monday``/``Monday`` or 0–6 (Monday is 0)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str) and value[:3].lower() in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES.index(value[:3].lower())
    raise ValueError(f"unknown weekday {value!r} (use mon … sun)")


def parse_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        return time.fromisoformat(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        # YAML 1.1 reads an unquoted 08:00 as sexagesimal: minutes since midnight
        return time(value // 60, value % 60)
    raise ValueError(f"unknown time of day {value!r} (use HH:MM)")


def zone(name: str | None, fallback: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or fallback)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(fallback)


@dataclass(frozen=True)
class Week:
    """One ISO week (Monday to Sunday)."""

    year: int
    number: int

    @classmethod
    def parse(cls, label: str) -> Week:
        """``2027-W10`` → the week; a clear ``ValueError`` otherwise."""
        try:
            year_text, week_text = label.strip().upper().split("-W")
            monday = date.fromisocalendar(int(year_text), int(week_text), 1)
        except ValueError as exc:
            raise ValueError(f"not an ISO week: {label!r} (write it like 2027-W10)") from exc
        return cls.containing(monday)

    @classmethod
    def containing(cls, day: date) -> Week:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def day(self, weekday: int) -> date:
        return self.monday + timedelta(days=weekday)

    def shifted(self, weeks: int) -> Week:
        return Week.containing(self.monday + timedelta(weeks=weeks))

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """Start (Monday 00:00 local) and end (next Monday 00:00 local), in UTC."""
        start = datetime.combine(self.monday, time(0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(self.monday + timedelta(days=7), time(0), tzinfo=tz)
        return start, end.astimezone(UTC)

    def span_text(self) -> str:
        """``1–7 March 2027``, ``29 March – 4 April 2027``, ``28 Dec 2026 – 3 Jan 2027``."""
        first, last = self.monday, self.sunday
        if first.year != last.year:
            return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
        if first.month != last.month:
            return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
        return f"{first.day}–{last.day} {last:%B %Y}"


@dataclass(frozen=True)
class DigestSchedule:
    weekday: int = 0
    at: time = time(8, 0)
    empty_week: EmptyWeek = "note"
    heard_weekday: int = 4
    heard_at: time = time(15, 0)
    plan_prompts: tuple[str, ...] = DEFAULT_PLAN_PROMPTS


def schedule_for(
    study_options: Mapping[str, Any] | None, project_digest: Mapping[str, Any] | None = None
) -> DigestSchedule:
    """The digest schedule: the study's ``digest`` options, overridden by the project's."""
    merged: dict[str, Any] = dict((study_options or {}).get("digest") or {})
    merged.update(project_digest or {})
    heard = dict(merged.get("heard") or {})
    empty = str(merged.get("empty_week", "note"))
    if empty not in ("note", "skip"):
        raise ValueError(f"empty_week must be note or skip, not {empty!r}")
    plans = merged.get("plan_prompts")
    return DigestSchedule(
        weekday=parse_weekday(merged.get("weekday", 0)),
        at=parse_time(merged.get("time", "08:00")),
        empty_week="skip" if empty == "skip" else "note",
        heard_weekday=parse_weekday(heard.get("weekday", 4)),
        heard_at=parse_time(heard.get("time", "15:00")),
        plan_prompts=tuple(str(p) for p in plans) if plans else DEFAULT_PLAN_PROMPTS,
    )


def moment(week: Week, weekday: int, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(week.day(weekday), at, tzinfo=tz).astimezone(UTC)


def weekly_period_due(schedule: DigestSchedule, tz: ZoneInfo, now: datetime) -> Week | None:
    """The week whose digest is due at ``now`` (the previous week, once this week's moment has
    passed in ``tz``), or None before the moment."""
    this_week = Week.containing(now.astimezone(tz).date())
    if now >= moment(this_week, schedule.weekday, schedule.at, tz):
        return this_week.shifted(-1)
    return None


def heard_period_due(schedule: DigestSchedule, tz: ZoneInfo, now: datetime) -> Week | None:
    """The week whose "what we heard" is due at ``now`` (this week, after its moment)."""
    this_week = Week.containing(now.astimezone(tz).date())
    if now >= moment(this_week, schedule.heard_weekday, schedule.heard_at, tz):
        return this_week
    return None


def is_plan_prompt(
    prompt_key: str | None, prompt_text: str | None, markers: tuple[str, ...]
) -> bool:
    """Whether an answer to this prompt is a carry-forward plan ("what we will try")."""
    key = (prompt_key or "").lower()
    if any(marker.lower() in key for marker in markers):
        return True
    return (prompt_text or "").strip().lower().startswith("now what")
