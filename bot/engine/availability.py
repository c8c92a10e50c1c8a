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
    """None when the person may be prompted for ``project`` now; else (new status, reason)."""
    if person.withdrawn_at is not None:
        return "skipped", "withdrawn"
    if not person.active or not project.active:
        return "cancelled", "left"
    pattern = working_pattern(person, project.partnership.timezone)
    today = now.astimezone(pattern.zone).date()
    if person.paused_until is not None and today <= person.paused_until:
        return "skipped", "paused"
    if is_paused(today, pattern):
        return "cancelled", "leave"
    return None
