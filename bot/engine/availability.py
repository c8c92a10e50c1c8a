"""The facts :func:`prompts.verdict.verdict` needs, read off a person, a project and a delivery.

The planner, the call-off, dispatch and reminders all ask the same pure verdict; this module only
gathers its arguments from the rows each of them has loaded.
"""

from __future__ import annotations

from datetime import datetime

from prompts.schedule import Phases, WorkingPattern, leave_periods, working_pattern
from prompts.verdict import Consent, Verdict, verdict
from storage.models import Delivery, Person, Project

DEFAULT_ZONE = "Europe/London"  # CARBOT_DEFAULT_TIMEZONE's default


def zone_for(person: Person, project: Project, default: str = DEFAULT_ZONE) -> str:
    """The zone a person's times are worked out in for ``project``: their own when they set
    one, else their project's partnership's, else ``default`` (the settings' default zone).
    Every engine step asks this one function."""
    return person.timezone or project.partnership.timezone or default


def pattern_for(person: Person, project: Project, default: str = DEFAULT_ZONE) -> WorkingPattern:
    """The person's working pattern in the zone :func:`zone_for` gives."""
    return working_pattern(person, zone_for(person, project, default))


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

    ``zone`` is the default zone when neither the person nor the partnership has one (see
    :func:`zone_for`);
    ``in_project`` defaults to the person and the project being active; ``pattern`` is the
    person's working pattern when the caller has it already.
    """
    if pattern is None:
        pattern = pattern_for(person, project, zone or DEFAULT_ZONE)
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
