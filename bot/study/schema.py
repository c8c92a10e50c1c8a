"""The study file, as pydantic models: its shape, its defaults, and the checks one field can make.

Checks that need more than one field at a time (overlapping phases, unknown people in a team,
duplicate keys) live in :mod:`bot.study.validate`. Every model forbids unknown keys, so a typo
is an error rather than a silently ignored setting.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.study.fields import (
    DEFAULT_PHASE_MODEL,
    EMAIL,
    SLACK_TEAM,
    SLACK_USER,
    TELEGRAM_CHAT,
    Audience,
    Strict,
    check_key,
    check_slug,
    check_zone,
    clock_text,
    ends_after_start,
)
from bot.study.options import DigestOverrides, StudySection
from prompts.cadence import WEEKDAYS, Cadence, Weekday


class ResearchQuestion(Strict):
    key: str
    text: str = Field(min_length=1)
    themes: list[str] = Field(default_factory=list)

    _key = field_validator("key")(check_key)


class PhaseDates(Strict):
    name: str = Field(min_length=1, max_length=200)
    starts_on: date
    ends_on: date

    _in_order = field_validator("ends_on")(ends_after_start)


class CycleSpec(Strict):
    key: str
    name: str = Field(min_length=1, max_length=200)
    phases: list[PhaseDates] = Field(min_length=1)

    _key = field_validator("key")(check_key)


class Team(Strict):
    leads: list[str] = Field(default_factory=list)
    participants: list[str] = Field(default_factory=list)
    researchers: list[str] = Field(default_factory=list)
    admins: list[str] = Field(default_factory=list)


class ProjectSpec(Strict):
    slug: str
    name: str = Field(min_length=1, max_length=200)
    aims: str = ""
    phase_model: str = DEFAULT_PHASE_MODEL
    default_audience: Audience | None = None
    cadence: Cadence = Field(default_factory=Cadence)
    digest: DigestOverrides = Field(default_factory=DigestOverrides)
    research_questions: list[ResearchQuestion] = Field(default_factory=list)
    cycles: list[CycleSpec] = Field(default_factory=list)
    team: Team = Field(default_factory=Team)

    check_slug = field_validator("slug")(check_slug)


class PartnershipSpec(Strict):
    slug: str
    name: str = Field(min_length=1, max_length=200)
    timezone: str | None = None
    projects: list[ProjectSpec] = Field(default_factory=list)

    check_slug = field_validator("slug")(check_slug)
    _zone = field_validator("timezone")(check_zone)


class Leave(Strict):
    starts: date = Field(alias="from")
    until: date

    @field_validator("until")
    @classmethod
    def _in_order(cls, value: date, info: ValidationInfo) -> date:
        starts = info.data.get("starts")
        if starts is not None and value < starts:
            raise ValueError(f"leave ends on {value}, before it starts on {starts}")
        return value


class SlackHandle(Strict):
    user: str
    workspace: str = ""

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        if not SLACK_USER.match(value):
            raise ValueError(f"{value!r} is not a Slack user id (like 'U024BE7LH')")
        return value

    @field_validator("workspace")
    @classmethod
    def _team(cls, value: str) -> str:
        if value and not SLACK_TEAM.match(value):
            raise ValueError(f"{value!r} is not a Slack workspace (team) id (like 'T024BE7LD')")
        return value


class Channels(Strict):
    telegram: str | None = None
    slack: SlackHandle | None = None

    @field_validator("telegram", mode="before")
    @classmethod
    def _chat(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and not TELEGRAM_CHAT.match(value):
            raise ValueError(f"{value!r} is not a Telegram chat id (a number such as '123456789')")
        return value

    @field_validator("slack", mode="before")
    @classmethod
    def _slack(cls, value: Any) -> Any:
        return {"user": value} if isinstance(value, str) else value


class PersonSpec(Strict):
    key: str
    name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    timezone: str | None = None
    working_days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    working_hours: tuple[time, time] = (time(9, 0), time(17, 0))
    default_audience: Audience | None = None
    leave: list[Leave] = Field(default_factory=list)
    channels: Channels = Field(default_factory=Channels)

    _key = field_validator("key")(check_key)
    _zone = field_validator("timezone")(check_zone)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 320 or not EMAIL.match(value)):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: list[Weekday]) -> list[Weekday]:
        if len(set(value)) != len(value):
            raise ValueError("a working day is listed twice")
        return sorted(value, key=WEEKDAYS.index)

    @field_validator("working_hours", mode="before")
    @classmethod
    def _hours_clock(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [clock_text(item) for item in value]
        return value

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: tuple[time, time]) -> tuple[time, time]:
        if value[1] <= value[0]:
            raise ValueError(
                f"working hours end ({value[1]:%H:%M}) at or before they start ({value[0]:%H:%M})"
            )
        return value


EVENT_KINDS = ("retreat", "local-event")
EventKind = Literal["retreat", "local-event"]


class EventSpec(Strict):
    """A collaborative retreat or a local event, with the partnerships and projects taking part
    (a partnership named here brings all its projects)."""

    key: str
    name: str = Field(min_length=1, max_length=200)
    kind: EventKind = "retreat"
    starts_on: date
    ends_on: date
    partnerships: list[str] = Field(default_factory=list)
    projects: list[str] = Field(default_factory=list)

    _key = field_validator("key")(check_key)

    _in_order = field_validator("ends_on")(ends_after_start)

    @model_validator(mode="after")
    def _someone_takes_part(self) -> EventSpec:
        if not self.partnerships and not self.projects:
            raise ValueError("no partnerships or projects take part: name at least one")
        return self


class StudyFile(Strict):
    """A whole study file."""

    study: StudySection
    partnerships: list[PartnershipSpec] = Field(default_factory=list)
    people: list[PersonSpec] = Field(default_factory=list)
    events: list[EventSpec] = Field(default_factory=list)
