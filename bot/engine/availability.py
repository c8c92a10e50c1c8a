"""The facts :func:`prompts.verdict.verdict` needs, read off a person, a project and a delivery.

The planner, the call-off, dispatch and reminders all ask the same pure verdict; this module only
gathers its arguments from the rows each of them has loaded.
"""

from __future__ import annotations

from datetime import datetime

from prompts.schedule import Phases, WorkingPattern, leave_periods, working_pattern
from prompts.verdict import Consent, Verdict, verdict
from storage.models import Delivery, Person, Project


def consent_of(person: Person, *, consenting: bool = True, outdated: bool = False) -> Consent:
    """``withdrawn`` when the person withdrew or holds no consent, ``outdated`` when they have
    not yet agreed to the study's current version, else ``given``."""
    if person.withdrawn_at is not None or not consenting:
        return "withdrawn"
    return "outdated" if outdated else "given"


def own_phase(delivery: Delivery) -> Phases | None:
    """The dates of the phase a delivery was planned in (None when it has none)."""
    phase = delivery.phase
    return None if phase is None else [(phase.starts_on, phase.ends_on)]


def judge(
    person: Person,
    project: Project,
    slot: datetime,
    now: datetime,
    *,
    zone: str | None = None,
    due: datetime | None = None,
    phases: Phases | None = None,
    consent: Consent | None = None,
    in_project: bool | None = None,
    pattern: WorkingPattern | None = None,
) -> Verdict:
    """The verdict on prompting ``person`` for ``project`` at ``slot``, as of ``now``.

    ``zone`` is the partnership's (read from ``project.partnership`` when not given);
    ``in_project`` defaults to the person and the project being active; ``pattern`` is the
    person's working pattern when the caller has it already.
    """
    if pattern is None:
        pattern = working_pattern(person, zone or project.partnership.timezone)
    return verdict(
        pattern,
        in_project=(person.active and project.active) if in_project is None else in_project,
        phases=phases,
        paused_until=person.paused_until,
        leave=leave_periods(person),
        consent=consent or consent_of(person),
        slot=slot,
        now=now,
        due=due,
    )
