"""Whether a person can be prompted right now: the checks made just before a send.

The planner decides who is prompted when; by the time a delivery is due the person may have
withdrawn, paused for leave or left the study, and the project may have ended. Skipping is not
failing: a withdrawn or paused person's prompt is ``skipped``, one that no longer belongs to the
study is ``cancelled``.
"""

from __future__ import annotations

from datetime import datetime

from prompts.schedule import is_paused, working_pattern
from storage.models import Person, Project


def unavailable_reason(person: Person, project: Project, now: datetime) -> tuple[str, str] | None:
    """None when the person may be prompted for ``project`` now; else (new status, why)."""
    if person.withdrawn_at is not None:
        return "skipped", "the person withdrew"
    if not person.active:
        return "cancelled", "the person is no longer in the study"
    if not project.active:
        return "cancelled", "the project is no longer active"
    pattern = working_pattern(person, project.partnership.timezone)
    if is_paused(now.astimezone(pattern.zone).date(), pattern):
        return "skipped", "the person has paused prompts"
    return None
