"""The study file, as pydantic models: its shape, its defaults, and the checks one field can make.

Checks that need more than one field at a time (overlapping phases, unknown people in a team,
duplicate keys) live in :mod:`bot.study.validate`. Every model forbids unknown keys, so a typo
is an error rather than a silently ignored setting.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import date, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from prompts.cadence import WEEKDAYS, Cadence, Weekday

Audience = Literal["private", "researchers", "team_anonymous", "team"]

DEFAULT_PHASE_MODEL = "scoping-exploring-testing"
BUILTIN_PHASE_MODELS: dict[str, tuple[str, ...]] = {
    DEFAULT_PHASE_MODEL: ("Scoping", "Exploring evidence", "Testing change"),
    "plan-act-observe-reflect": ("Plan", "Act", "Observe", "Reflect"),
}
ROLE_FIELDS: dict[str, str] = {
    "leads": "lead",
    "participants": "participant",
    "researchers": "researcher",
    "admins": "admin",
}

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEY = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TELEGRAM_CHAT = re.compile(r"^-?[0-9]{1,20}$")
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
SLACK_TEAM = re.compile(r"^T[A-Z0-9]{2,}$")


def phase_key(name: str) -> str:
    """The stored key of a phase name: ``"Exploring evidence"`` → ``"exploring-evidence"``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _slug(value: str) -> str:
    if len(value) > 80 or not SLUG.match(value):
        raise ValueError(
            f"{value!r} is not a slug: use lower-case letters, digits and single hyphens "
            "(at most 80 characters), e.g. 'fife-family-hub'"
        )
    return value


def _key(value: str) -> str:
    if len(value) > 80 or not KEY.match(value):
        raise ValueError(
            f"{value!r} is not a key: use lower-case letters, digits, '.', '_' or '-' "
            "(at most 80 characters), e.g. 'aileen-mckay'"
        )
    return value


def _ends_after_start(value: date, info: ValidationInfo) -> date:
    starts_on = info.data.get("starts_on")
    if starts_on is not None and value < starts_on:
        raise ValueError(f"ends on {value}, before it starts on {starts_on}")
    return value


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as 'Europe/London')"
        ) from None
    return value


def _clock(value: Any) -> Any:
    """``"9:00"`` → ``time(9, 0)``; anything else is left to pydantic's own time parsing."""
    if isinstance(value, str) and re.fullmatch(r"\d:\d\d", value):
        return "0" + value
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_default(cls, data: Any) -> Any:
        """``team:`` with nothing after it means the default, not "null is not a team"."""
        if not isinstance(data, dict):
            return data
        return {
            key: value
            for key, value in data.items()
            if value is not None
            or (key in cls.model_fields and cls.model_fields[key].default is None)
        }


class Consent(Strict):
    version: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1)
    # What changed since the last version, in a sentence or two: shown to everyone who agreed to
    # an earlier version when they are asked again.
    changes: str = Field(default="", max_length=2000)


DURATION = re.compile(r"^\s*(\d{1,4})\s*(day|week|month|year)s?\s*$", re.IGNORECASE)
DAYS_IN = {"day": 1, "week": 7, "month": 30, "year": 365}
# Shortest periods that do not break carbot itself: an inbound event id must outlive the
# platform's redelivery, a digest row the weeks a digest can still be due or retried.
SHORTEST = {"inbound_events": 7, "digests": 28}


def duration_days(value: str) -> int:
    """``"24 months"`` → 720 days (a month is 30 days, a year 365); ValueError otherwise."""
    found = DURATION.match(value)
    if not found or int(found.group(1)) == 0:
        raise ValueError(
            f"{value!r} is not a duration: use a whole number and days, weeks, months or years, "
            "e.g. '24 months' or '90 days'"
        )
    return int(found.group(1)) * DAYS_IN[found.group(2).lower()]


class Retention(Strict):
    """How long carbot keeps each kind of data; unset kinds are kept until erased."""

    reflections: str | None = None
    evidence: str | None = None
    inbound_events: str | None = None
    deliveries: str | None = None
    digests: str | None = None
    audit_log: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _duration(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(
                f"{value!r} has no unit: write e.g. '{value} days' or '{value} months'"
            )
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a duration such as '24 months' or '90 days'")
        days = duration_days(value)
        shortest = SHORTEST.get(str(info.field_name), 1)
        if days < shortest:
            raise ValueError(f"{value!r} is too short: keep them at least {shortest} days")
        return " ".join(value.split()).lower()

    @model_validator(mode="after")
    def _evidence_not_longer_than_reflections(self) -> Retention:
        kept = self.days()
        if "reflections" in kept and kept.get("evidence", 10**9) > kept["reflections"]:
            raise ValueError(
                "evidence files go with their reflection, so keep evidence no longer than "
                f"reflections ({self.reflections})"
            )
        return self

    def days(self) -> dict[str, int]:
        """Each set kind's period in days."""
        return {
            kind: duration_days(value)
            for kind, value in self.model_dump().items()
            if value is not None
        }


class PromptOptions(Strict):
    """Study prompts: added to the prompt library (``extend``) or used instead of it."""

    mode: Literal["extend", "replace"] = "extend"
    items: list[dict[str, Any]] = Field(default_factory=list)


class HeardOptions(Strict):
    """When staff get "what we heard" (the week's summary for the team)."""

    weekday: Weekday = "fri"
    time: dt.time = Field(default=dt.time(15, 0))

    _clock = field_validator("time", mode="before")(_clock)


class HeardOverrides(Strict):
    weekday: Weekday | None = None
    time: dt.time | None = None

    _clock = field_validator("time", mode="before")(_clock)


class DigestOptions(Strict):
    """When leads get their weekly digest, and what an empty week sends."""

    weekday: Weekday = "mon"
    time: dt.time = Field(default=dt.time(8, 0))
    empty_week: Literal["note", "skip"] = "note"
    heard: HeardOptions = Field(default_factory=HeardOptions)
    # prompt keys whose answers are "what the team said it would try next"
    plan_prompts: list[str] | None = None

    _clock = field_validator("time", mode="before")(_clock)

    def overridden(self, overrides: DigestOverrides) -> DigestOptions:
        """These options with a project's overrides applied, key by key."""
        heard = self.heard.model_copy(
            update=overrides.heard.model_dump(exclude_none=True) if overrides.heard else {}
        )
        update: dict[str, Any] = overrides.model_dump(exclude_none=True, exclude={"heard"})
        return self.model_copy(update={**update, "heard": heard})

    def as_json(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "weekday": self.weekday,
            "time": self.time.strftime("%H:%M"),
            "empty_week": self.empty_week,
            "heard": {"weekday": self.heard.weekday, "time": self.heard.time.strftime("%H:%M")},
        }
        if self.plan_prompts is not None:
            stored["plan_prompts"] = list(self.plan_prompts)
        return stored


class DigestOverrides(Strict):
    weekday: Weekday | None = None
    time: dt.time | None = None
    empty_week: Literal["note", "skip"] | None = None
    heard: HeardOverrides | None = None
    plan_prompts: list[str] | None = None

    _clock = field_validator("time", mode="before")(_clock)


class StudySection(Strict):
    slug: str
    name: str = Field(min_length=1, max_length=200)
    default_audience: Audience = "team_anonymous"
    timezone: str = "Europe/London"
    consent: Consent
    phase_models: dict[str, list[str]] = Field(default_factory=dict)
    prompts: PromptOptions = Field(default_factory=PromptOptions)
    digest: DigestOptions = Field(default_factory=DigestOptions)
    retention: Retention = Field(default_factory=Retention)
    # the most minutes of estimated answering time a participant is asked for in a month
    time_budget_minutes: int | None = Field(None, ge=10, le=600)

    _slug = field_validator("slug")(_slug)
    _zone = field_validator("timezone")(_zone)

    @field_validator("phase_models")
    @classmethod
    def _models(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, phases in value.items():
            _slug(name)
            if name in BUILTIN_PHASE_MODELS and tuple(phases) != BUILTIN_PHASE_MODELS[name]:
                raise ValueError(f"phase model {name!r} is built in and cannot be redefined")
            if not phases:
                raise ValueError(f"phase model {name!r} has no phases")
            keys = [phase_key(phase) for phase in phases]
            if "" in keys:
                raise ValueError(f"phase model {name!r} has a phase without a name")
            if len(set(keys)) != len(keys):
                raise ValueError(f"phase model {name!r} names the same phase twice")
        return value

    def all_phase_models(self) -> dict[str, list[str]]:
        models = {name: list(phases) for name, phases in BUILTIN_PHASE_MODELS.items()}
        models.update(self.phase_models)
        return models


class ResearchQuestion(Strict):
    key: str
    text: str = Field(min_length=1)
    themes: list[str] = Field(default_factory=list)

    _key = field_validator("key")(_key)


class PhaseDates(Strict):
    name: str = Field(min_length=1, max_length=200)
    starts_on: date
    ends_on: date

    _in_order = field_validator("ends_on")(_ends_after_start)


class CycleSpec(Strict):
    key: str
    name: str = Field(min_length=1, max_length=200)
    phases: list[PhaseDates] = Field(min_length=1)

    _key = field_validator("key")(_key)


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

    _slug = field_validator("slug")(_slug)


class PartnershipSpec(Strict):
    slug: str
    name: str = Field(min_length=1, max_length=200)
    timezone: str | None = None
    projects: list[ProjectSpec] = Field(default_factory=list)

    _slug = field_validator("slug")(_slug)
    _zone = field_validator("timezone")(_zone)


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

    _key = field_validator("key")(_key)
    _zone = field_validator("timezone")(_zone)

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
            return [_clock(item) for item in value]
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

    _key = field_validator("key")(_key)

    _in_order = field_validator("ends_on")(_ends_after_start)

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
