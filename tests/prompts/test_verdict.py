"""The one verdict on whether a person may be prompted for a slot now."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.engine.deliveries import TRANSITIONS, called_off_status
from prompts.schedule import WorkingPattern
from prompts.verdict import Decision, verdict

LONDON = ZoneInfo("Europe/London")
PATTERN = WorkingPattern(
    zone=LONDON, working_days=frozenset(range(5)), starts=time(9), ends=time(17)
)
SLOT = datetime(2027, 3, 9, 10, 30, tzinfo=UTC)  # Tuesday 10:30 in London (GMT)
PHASES = [(date(2027, 2, 15), date(2027, 4, 30))]


def judged(**changes: Any) -> tuple[Decision, str | None]:
    facts: dict[str, Any] = {
        "in_project": True,
        "phases": PHASES,
        "paused_until": None,
        "leave": (),
        "consent": "given",
        "slot": SLOT,
        "now": SLOT,
    }
    facts.update(changes)
    pattern = facts.pop("pattern", PATTERN)
    result = verdict(pattern, **facts)
    return result.decision, result.reason


def test_a_consenting_member_at_work_in_a_phase_may_be_sent_the_prompt_now() -> None:
    assert judged() == (Decision.SEND, None)


def test_a_slot_still_ahead_is_held_not_sent() -> None:
    assert judged(now=SLOT - timedelta(hours=1)) == (Decision.HOLD, "not_yet")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"consent": "withdrawn"}, "withdrawn"),
        ({"paused_until": date(2027, 3, 9)}, "paused"),
        ({"in_project": False}, "left"),
        ({"phases": [(date(2027, 2, 15), date(2027, 3, 8))]}, "phase"),
        ({"phases": []}, "phase"),
        ({"leave": [(date(2027, 3, 8), date(2027, 3, 12))]}, "leave"),
        ({"slot": SLOT.replace(hour=8), "now": SLOT.replace(hour=8)}, "hours"),
        ({"slot": SLOT + timedelta(days=4), "now": SLOT + timedelta(days=4)}, "hours"),
        ({"consent": "outdated"}, "awaiting_consent"),
    ],
)
def test_each_reason_not_to_prompt_calls_the_prompt_off_with_its_reason(
    changes: dict[str, Any], reason: str
) -> None:
    assert judged(**changes) == (Decision.CALL_OFF, reason)


def test_the_first_reason_wins_withdrawal_over_everything_else() -> None:
    everything = {
        "consent": "withdrawn",
        "paused_until": date(2027, 3, 31),
        "in_project": False,
        "leave": [(date(2027, 3, 1), date(2027, 3, 31))],
    }
    assert judged(**everything) == (Decision.CALL_OFF, "withdrawn")
    assert judged(**{**everything, "consent": "given"}) == (Decision.CALL_OFF, "paused")


def test_a_pause_that_ended_the_day_before_lets_the_prompt_go() -> None:
    assert judged(paused_until=date(2027, 3, 8)) == (Decision.SEND, None)


def test_a_pause_counts_on_the_day_the_prompt_would_go_out() -> None:
    late = SLOT + timedelta(days=1)  # snoozed or retried into Wednesday, paused that day
    assert judged(due=late, now=late, paused_until=date(2027, 3, 10)) == (
        Decision.CALL_OFF,
        "paused",
    )


def test_leave_on_the_day_a_moved_prompt_would_go_out_calls_it_off() -> None:
    late = SLOT + timedelta(days=1)
    leave = [(date(2027, 3, 10), date(2027, 3, 10))]
    assert judged(due=late, now=late, leave=leave) == (Decision.CALL_OFF, "leave")


def test_a_consent_version_not_yet_agreed_holds_a_prompt_still_ahead() -> None:
    early = SLOT - timedelta(hours=2)
    assert judged(consent="outdated", now=early) == (Decision.HOLD, "not_yet")


def test_working_time_is_read_in_the_persons_own_zone() -> None:
    auckland = WorkingPattern(
        zone=ZoneInfo("Pacific/Auckland"),
        working_days=frozenset(range(5)),
        starts=time(9),
        ends=time(17),
    )
    # 10:30 UTC is 23:30 in Auckland: outside their hours
    assert judged(pattern=auckland) == (Decision.CALL_OFF, "hours")


def test_no_phase_check_when_the_caller_has_no_phase_dates() -> None:
    assert judged(phases=None) == (Decision.SEND, None)


@pytest.mark.parametrize(
    "reason", ["withdrawn", "paused", "left", "phase", "leave", "hours", "awaiting_consent"]
)
def test_every_reason_the_verdict_gives_is_a_call_off_the_table_declares(reason: str) -> None:
    assert called_off_status(reason) in ("skipped", "cancelled")
    assert any(t.reason == reason for t in TRANSITIONS)
