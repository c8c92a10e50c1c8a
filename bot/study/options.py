"""The study file's ``study:`` section: consent, retention, prompts, "what we heard" and digest
options."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.study.fields import (
    BUILTIN_PHASE_MODELS,
    Audience,
    Strict,
    check_slug,
    check_zone,
    clock_text,
    phase_key,
)
from prompts.cadence import Weekday


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

    _clock = field_validator("time", mode="before")(clock_text)


class HeardOverrides(Strict):
    weekday: Weekday | None = None
    time: dt.time | None = None

    _clock = field_validator("time", mode="before")(clock_text)


class DigestOptions(Strict):
    """When leads get their weekly digest, and what an empty week sends."""

    weekday: Weekday = "mon"
    time: dt.time = Field(default=dt.time(8, 0))
    empty_week: Literal["note", "skip"] = "note"
    heard: HeardOptions = Field(default_factory=HeardOptions)
    # prompt keys whose answers are "what the team said it would try next"
    plan_prompts: list[str] | None = None

    _clock = field_validator("time", mode="before")(clock_text)

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

    _clock = field_validator("time", mode="before")(clock_text)


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

    check_slug = field_validator("slug")(check_slug)
    _zone = field_validator("timezone")(check_zone)

    @field_validator("phase_models")
    @classmethod
    def _models(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, phases in value.items():
            check_slug(name)
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
