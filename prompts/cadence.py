"""A project's prompt cadence, as written in the study file and stored on ``Project.cadence``."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Cadence(BaseModel):
    """How often and when a project's participants are prompted.

    ``at`` sends at a fixed local time; otherwise a time is drawn (deterministically per person
    and slot) within ``window``, keeping ``min_gap_hours`` between a person's prompts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_week: int = Field(2, ge=1, le=7, description="prompts per person per week")
    weekdays: tuple[Weekday, ...] = Field(("tue", "thu"), min_length=1)
    at: time | None = Field(None, description="fixed local send time; None: random in window")
    window: tuple[time, time] = (time(10, 0), time(15, 0))
    min_gap_hours: float = Field(20.0, ge=0)
    weekly_cap: int = Field(3, ge=1, le=14, description="most prompts per person per week")
    answer_window_hours: float = Field(48.0, gt=0, description="after this a prompt expires")
    reminder_after_hours: float | None = Field(
        24.0, gt=0, description="one gentle reminder after this long; None: no reminder"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Cadence:
        if self.window[1] <= self.window[0]:
            raise ValueError("window must end after it starts")
        if self.per_week > len(set(self.weekdays)):
            raise ValueError(
                f"per_week is {self.per_week} but only {len(set(self.weekdays))} weekday(s) given"
            )
        if (
            self.reminder_after_hours is not None
            and self.reminder_after_hours >= self.answer_window_hours
        ):
            raise ValueError("reminder_after_hours must be shorter than answer_window_hours")
        return self
