"""The study file's shared pieces: names and patterns, the checks of one value (slugs, keys, time
zones, clock times, date order) and :class:`Strict`, the base of every model."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationInfo,
    model_validator,
)

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


def check_slug(value: str) -> str:
    if len(value) > 80 or not SLUG.match(value):
        raise ValueError(
            f"{value!r} is not a slug: use lower-case letters, digits and single hyphens "
            "(at most 80 characters), e.g. 'fife-family-hub'"
        )
    return value


def check_key(value: str) -> str:
    if len(value) > 80 or not KEY.match(value):
        raise ValueError(
            f"{value!r} is not a key: use lower-case letters, digits, '.', '_' or '-' "
            "(at most 80 characters), e.g. 'aileen-mckay'"
        )
    return value


def ends_after_start(value: date, info: ValidationInfo) -> date:
    starts_on = info.data.get("starts_on")
    if starts_on is not None and value < starts_on:
        raise ValueError(f"ends on {value}, before it starts on {starts_on}")
    return value


def check_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as 'Europe/London')"
        ) from None
    return value


def clock_text(value: Any) -> Any:
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
