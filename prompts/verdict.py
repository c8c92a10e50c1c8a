"""May this person be prompted for this slot now? One pure answer: send, hold or call off.

The planner (before it plans a slot), the call-off (for every planned delivery) and dispatch and
reminders (just before a send) all ask :func:`verdict`, so they can never disagree. Nothing here
reads a database or a clock: the facts and the time come in as arguments. A call-off names its
reason; ``bot.engine.deliveries`` says which status each reason ends in and whether the slot may
come back when the reason is taken back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from prompts.schedule import Phases, WorkingPattern, is_working_time

Consent = Literal["given", "withdrawn", "outdated"]  # outdated: not yet agreed to the new version


class Decision(StrEnum):
    SEND = "send"  # it may go out now
    HOLD = "hold"  # it may go out, but not yet (its time is still ahead)
    CALL_OFF = "call_off"  # it must not go out


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str | None = None  # for a call-off: a reason of bot.engine.deliveries.TRANSITIONS

    @property
    def called_off(self) -> bool:
        return self.decision is Decision.CALL_OFF


SEND = Verdict(Decision.SEND)
HOLD = Verdict(Decision.HOLD, "not_yet")


def _call_off(reason: str) -> Verdict:
    return Verdict(Decision.CALL_OFF, reason)


def verdict(
    pattern: WorkingPattern,
    *,
    in_project: bool,
    phases: Phases | None,
    paused_until: date | None,
    leave: Sequence[tuple[date, date]],
    consent: Consent,
    slot: datetime,
    now: datetime,
    due: datetime | None = None,
) -> Verdict:
    """The verdict on a prompt planned for ``slot`` (to go out at ``due``, by default the slot).

    ``pattern`` gives the zone, working days and hours (its pauses are not read: the person's own
    pause is ``paused_until``, their leave is ``leave``, both inclusive); ``in_project`` is
    whether the person, their membership and the project are all still active; ``phases`` the
    project's phase dates (None: not checked). The first reason that applies wins: withdrawal,
    a pause, leaving, phases, leave, hours; then a slot still ahead is held, and one due for a
    person asked to agree to a new consent version is called off until they agree.
    """
    due = due or slot
    moment = max(due, now)  # when it would go out
    slot_day = slot.astimezone(pattern.zone).date()
    send_day = moment.astimezone(pattern.zone).date()
    if consent == "withdrawn":
        return _call_off("withdrawn")
    if paused_until is not None and send_day <= paused_until:
        return _call_off("paused")
    if not in_project:
        return _call_off("left")
    if phases is not None and not any(first <= slot_day <= last for first, last in phases):
        return _call_off("phase")
    if any(first <= day <= last for day in {slot_day, send_day} for first, last in leave):
        return _call_off("leave")
    if not is_working_time(slot, replace(pattern, pauses=())):
        return _call_off("hours")
    if now < due:
        return HOLD
    if consent == "outdated":
        return _call_off("awaiting_consent")
    return SEND
