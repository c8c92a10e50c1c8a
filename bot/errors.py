"""carbot's exceptions, in one place.

Adapters wrap SDK and driver errors at their edge (``adapters.base.DeliveryError``), so the core
never sees ``telegram.error.Forbidden`` or ``slack_sdk.errors.SlackApiError``.
"""

from __future__ import annotations

from adapters.base import DeliveryError

__all__ = ["CarbotError", "DeliveryError", "NotFound", "StudyError", "UsageError"]


class CarbotError(Exception):
    """Base of carbot's own errors."""


class UsageError(CarbotError):
    """A person or admin asked for something that cannot be done; the message says why."""


class NotFound(CarbotError):
    """The thing asked for does not exist, or the asker may not know that it does."""


class StudyError(CarbotError):
    """A study file is invalid. ``problems`` holds every problem, each with its field path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the study file")
        self.problems = problems
