"""The pure schedule, over 2027: clock changes, Scottish bank holidays, other zones, leave, caps."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from prompts.cadence import Cadence
from prompts.schedule import (
    WorkingPattern,
    expires_at,
    is_working_time,
    plan_slots,
    reminder_at,
    snooze_until,
    working_pattern,
)

LONDON = ZoneInfo("Europe/London")
YEAR_2027 = [(date(2027, 1, 1), date(2027, 12, 31))]
SCOTTISH_BANK_HOLIDAYS_2027 = {
    date(2027, 1, 1),
    date(2027, 1, 4),  # 2 January falls on a Saturday: Monday 4 January instead
    date(2027, 3, 26),  # Good Friday
    date(2027, 5, 3),
    date(2027, 5, 31),
    date(2027, 8, 2),
    date(2027, 11, 30),  # St Andrew's Day
    date(2027, 12, 27),
    date(2027, 12, 28),
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def pattern(
    zone: str = "Europe/London",
    days: tuple[int, ...] = (0, 1, 2, 3, 4),
    starts: time = time(9, 0),
    ends: time = time(17, 0),
    pauses: tuple[tuple[date, date], ...] = (),
) -> WorkingPattern:
    return WorkingPattern(ZoneInfo(zone), frozenset(days), starts, ends, pauses)


def cadence(**fields: object) -> Cadence:
    return Cadence.model_validate(fields)


def slots(
    c: Cadence, p: WorkingPattern, start: datetime, end: datetime, **kw: object
) -> list[datetime]:
    return plan_slots(c, p, kw.pop("phases", YEAR_2027), start, end, seed="p1:proj", **kw)  # type: ignore[arg-type]


def test_a_local_half_past_ten_moves_an_hour_in_utc_across_both_clock_changes() -> None:
    c = cadence(weekdays=["tue"], per_week=1, at="10:30")
    march = slots(c, pattern(), utc(2027, 3, 22), utc(2027, 4, 5))
    october = slots(c, pattern(), utc(2027, 10, 25), utc(2027, 11, 8))

    assert march == [utc(2027, 3, 23, 10, 30), utc(2027, 3, 30, 9, 30)]  # GMT, then BST
    assert october == [utc(2027, 10, 26, 9, 30), utc(2027, 11, 2, 10, 30)]  # BST, then GMT
    assert all(t.astimezone(LONDON).time() == time(10, 30) for t in march + october)


def test_it_never_plans_a_nonexistent_or_doubled_time_on_the_clock_change_sundays() -> None:
    night = pattern(days=(6,), starts=time(0, 30), ends=time(4, 0))
    c = cadence(weekdays=["sun"], per_week=1, at="01:30", min_gap_hours=0)

    spring = slots(c, night, utc(2027, 3, 27), utc(2027, 3, 29))
    autumn = slots(c, night, utc(2027, 10, 30), utc(2027, 11, 1))

    # 01:30 does not exist on 28 March: the clocks jump to 02:00 BST; 01:30 GMT is 02:30 BST.
    assert spring == [utc(2027, 3, 28, 1, 30)]
    assert spring[0].astimezone(LONDON).time() == time(2, 30)
    # 01:30 happens twice on 31 October: only the first (BST) one is used.
    assert autumn == [utc(2027, 10, 31, 0, 30)]
    assert all(is_working_time(t, night) for t in spring + autumn)


def test_the_holidays_package_knows_the_2027_scottish_bank_holidays() -> None:
    from prompts.schedule import scottish_bank_holidays

    assert scottish_bank_holidays(2027) >= SCOTTISH_BANK_HOLIDAYS_2027
    assert date(2027, 8, 30) not in scottish_bank_holidays(2027)  # England's, not Scotland's


@pytest.mark.parametrize("holiday", sorted(SCOTTISH_BANK_HOLIDAYS_2027))
def test_it_skips_a_prompt_on_a_bank_holiday(holiday: date) -> None:
    every_weekday = cadence(
        weekdays=["mon", "tue", "wed", "thu", "fri"], per_week=5, weekly_cap=5, at="11:00"
    )
    monday = holiday - timedelta(days=holiday.weekday())
    start = datetime.combine(monday, time(0), tzinfo=LONDON)
    planned = slots(every_weekday, pattern(), start, start + timedelta(days=7))

    days = [t.astimezone(LONDON).date() for t in planned]
    assert holiday not in days
    assert len(days) == len(set(days))


def test_a_prompt_on_a_bank_holiday_moves_to_the_next_working_day_of_that_week() -> None:
    c = cadence(weekdays=["mon", "thu"], per_week=2, at="10:00")
    christmas_week = slots(c, pattern(), utc(2027, 12, 27), utc(2028, 1, 3))
    st_andrews = slots(
        cadence(weekdays=["tue"], per_week=1, at="10:00"),
        pattern(),
        utc(2027, 11, 29),
        utc(2027, 12, 6),
    )
    good_friday = slots(
        cadence(weekdays=["fri"], per_week=1, at="10:00"),
        pattern(),
        utc(2027, 3, 22),
        utc(2027, 3, 29),
    )

    # Monday 27 and Tuesday 28 December are holidays: Monday's prompt comes on Wednesday.
    assert christmas_week == [utc(2027, 12, 29, 10), utc(2027, 12, 30, 10)]
    assert st_andrews == [utc(2027, 12, 1, 10)]
    assert good_friday == []  # no working day left in that week


def test_a_whole_year_of_prompts_stays_in_working_hours_and_off_bank_holidays() -> None:
    people = [
        pattern(),
        pattern("America/Toronto", starts=time(8, 30), ends=time(16, 30)),
        pattern("Asia/Kolkata", starts=time(9, 30), ends=time(18, 0)),
        pattern(days=(0, 2, 3), starts=time(9, 30), ends=time(13, 30)),
    ]
    c = cadence(weekdays=["mon", "tue", "thu"], per_week=3, weekly_cap=3, min_gap_hours=16)
    for p in people:
        planned = slots(c, p, utc(2027, 1, 1), utc(2028, 1, 1))
        local = [t.astimezone(p.zone) for t in planned]
        assert len(planned) > 52
        assert all(p.starts <= t.time() < p.ends for t in local)
        assert all(t.weekday() in p.working_days for t in local)
        assert not {t.date() for t in local} & SCOTTISH_BANK_HOLIDAYS_2027
        weeks = Counter(t.isocalendar()[:2] for t in local)
        assert max(weeks.values()) <= 3
        assert all(b - a >= timedelta(hours=16) for a, b in itertools.pairwise(planned))


def test_people_in_toronto_and_kolkata_are_asked_in_their_own_morning() -> None:
    c = cadence(weekdays=["tue"], per_week=1, at="10:30")
    # Toronto moves to daylight time on 14 March 2027, a fortnight before London.
    toronto = slots(c, pattern("America/Toronto"), utc(2027, 3, 15), utc(2027, 3, 22))
    kolkata = slots(c, pattern("Asia/Kolkata"), utc(2027, 3, 29), utc(2027, 4, 5))

    assert toronto == [utc(2027, 3, 16, 14, 30)]
    assert kolkata == [utc(2027, 3, 30, 5, 0)]  # no daylight saving in India


def test_a_part_time_persons_prompt_moves_to_a_day_they_work_or_is_dropped() -> None:
    mon_and_wed = pattern(days=(0, 2))
    c = cadence(weekdays=["tue", "thu"], per_week=2, at="10:00")

    planned = slots(c, mon_and_wed, utc(2027, 6, 7), utc(2027, 6, 21))

    # Tuesday's prompt moves to Wednesday; Thursday's has no working day left that week.
    assert planned == [utc(2027, 6, 9, 9), utc(2027, 6, 16, 9)]


def test_a_time_is_clipped_to_the_persons_working_hours() -> None:
    afternoons = pattern(starts=time(13, 0), ends=time(17, 0))
    fixed = slots(
        cadence(weekdays=["wed"], per_week=1, at="09:00"),
        afternoons,
        utc(2027, 2, 1),
        utc(2027, 2, 8),
    )
    drawn = slots(cadence(), afternoons, utc(2027, 2, 1), utc(2027, 4, 1))

    assert fixed == [utc(2027, 2, 3, 13)]
    assert drawn
    assert all(time(13) <= t.astimezone(LONDON).time() < time(15) for t in drawn)


def test_no_prompts_are_planned_during_leave() -> None:
    leave = pattern(pauses=((date(2027, 7, 5), date(2027, 7, 16)),))
    planned = slots(cadence(), leave, utc(2027, 6, 28), utc(2027, 7, 26))

    days = sorted(t.astimezone(LONDON).date() for t in planned)
    assert days
    assert not [d for d in days if date(2027, 7, 5) <= d <= date(2027, 7, 16)]
    assert any(d < date(2027, 7, 5) for d in days) and any(d > date(2027, 7, 16) for d in days)


def test_no_prompts_are_planned_outside_every_phase() -> None:
    phases = [(date(2027, 5, 3), date(2027, 5, 14))]
    planned = slots(cadence(), pattern(), utc(2027, 4, 19), utc(2027, 6, 1), phases=phases)

    assert planned
    assert all(date(2027, 5, 4) <= t.date() <= date(2027, 5, 14) for t in planned)


def test_the_weekly_cap_counts_prompts_already_taken_by_other_projects() -> None:
    c = cadence(weekdays=["tue", "wed", "thu"], per_week=3, weekly_cap=3, at="10:00")
    taken = [utc(2027, 9, 6, 14), utc(2027, 9, 7, 16)]  # Monday and Tuesday, another project

    planned = slots(c, pattern(), utc(2027, 9, 6), utc(2027, 9, 13), taken=taken)

    assert len(planned) == 1
    assert len(planned) + len(taken) == c.weekly_cap


def test_it_keeps_the_minimum_gap_from_a_prompt_already_planned() -> None:
    c = cadence(weekdays=["wed", "thu"], per_week=2, at="10:00", min_gap_hours=20)
    taken = [utc(2027, 9, 8, 14)]  # Wednesday 15:00 BST

    planned = slots(c, pattern(), utc(2027, 9, 6), utc(2027, 9, 13), taken=taken)

    assert planned == [utc(2027, 9, 9, 10)]  # Thursday 11:00 BST: 20 hours on


def test_replanning_returns_the_same_instants_and_nothing_already_taken() -> None:
    c = cadence()  # two a week, at random within 10:00–15:00
    whole = slots(c, pattern(), utc(2027, 3, 1), utc(2027, 5, 1))
    pieces: list[datetime] = []
    moment = utc(2027, 3, 1)
    while moment < utc(2027, 5, 1):  # as the planner sees it: two days at a time, every 6 hours
        for slot in slots(c, pattern(), moment, moment + timedelta(days=2), taken=pieces):
            pieces.append(slot)
        moment += timedelta(hours=6)

    assert len(set(t.astimezone(LONDON).time() for t in whole)) > 5  # really drawn at random
    assert sorted(p for p in pieces if p < utc(2027, 5, 1)) == whole
    assert slots(c, pattern(), utc(2027, 3, 1), utc(2027, 5, 1), taken=whole) == []
    other_seed = plan_slots(c, pattern(), YEAR_2027, utc(2027, 3, 1), utc(2027, 5, 1), seed="p2")
    assert other_seed != whole


def test_there_is_at_most_one_reminder_and_only_in_working_time() -> None:
    c = cadence(answer_window_hours=48, reminder_after_hours=24)
    sent = utc(2027, 3, 23, 10, 30)  # Tuesday
    late = utc(2027, 3, 25, 16, 30)  # Thursday 16:30 GMT: 24 h on is Good Friday

    assert reminder_at(sent, c, pattern()) == utc(2027, 3, 24, 10, 30)
    assert reminder_at(late, c, pattern()) is None  # no working moment before it expires
    week_long = cadence(answer_window_hours=168, reminder_after_hours=24)
    assert reminder_at(late, week_long, pattern()) == utc(2027, 3, 29, 8)  # Monday 09:00 BST
    assert reminder_at(sent, cadence(reminder_after_hours=None), pattern()) is None
    assert expires_at(sent, c) == utc(2027, 3, 25, 10, 30)


def test_an_evening_reminder_waits_for_the_next_morning() -> None:
    c = cadence(answer_window_hours=72, reminder_after_hours=8)
    sent = utc(2027, 1, 12, 11)  # Tuesday 11:00 GMT: 8 h on is 19:00

    assert reminder_at(sent, c, pattern()) == utc(2027, 1, 13, 9)


def test_snoozing_for_later_keeps_within_today_or_waits_for_the_next_working_start() -> None:
    p = pattern()
    assert snooze_until(utc(2027, 6, 15, 10), "later", p) == utc(2027, 6, 15, 13)
    # 15:00 BST + 3 h is after 17:00: Wednesday at 09:00 BST
    assert snooze_until(utc(2027, 6, 15, 14), "later", p) == utc(2027, 6, 16, 8)
    # Friday afternoon: Monday morning
    assert snooze_until(utc(2027, 6, 18, 14), "later", p) == utc(2027, 6, 21, 8)


def test_snoozing_until_tomorrow_skips_weekends_and_bank_holidays() -> None:
    p = pattern()
    assert snooze_until(utc(2027, 6, 15, 10), "tomorrow", p) == utc(2027, 6, 16, 9)
    # Thursday before Good Friday: Monday 29 March, 10:00 BST
    assert snooze_until(utc(2027, 3, 25, 10), "tomorrow", p) == utc(2027, 3, 29, 9)
    assert all(
        is_working_time(snooze_until(utc(2027, 3, d, h), option, p), p)
        for d in range(20, 31)
        for h in (0, 8, 12, 17, 23)
        for option in ("later", "tomorrow")
    )


def test_a_persons_pattern_comes_from_their_row_with_the_partnerships_zone_by_default() -> None:
    person = SimpleNamespace(
        timezone=None,
        working_days=[0, 1, 2],
        work_starts=time(8, 0),
        work_ends=time(12, 30),
        pauses=[{"from": "2027-07-01", "until": "2027-07-14"}, {"from": "bad", "until": "x"}],
        paused_until=date(2027, 2, 1),
    )
    p = working_pattern(person, "Europe/London")

    assert p.zone == LONDON
    assert p.working_days == frozenset({0, 1, 2})
    assert (p.starts, p.ends) == (time(8, 0), time(12, 30))
    assert (date(2027, 7, 1), date(2027, 7, 14)) in p.pauses
    assert not is_working_time(utc(2027, 2, 1, 10), p)  # paused up to and including 1 February
    assert is_working_time(utc(2027, 2, 2, 10), p)
    assert not is_working_time(utc(2027, 7, 6, 10), p)
    toronto = working_pattern(SimpleNamespace(timezone="America/Toronto"), "Europe/London")
    assert toronto.zone == ZoneInfo("America/Toronto")
    assert toronto.working_days == frozenset(range(5))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        is_working_time(datetime(2027, 1, 5, 10), pattern())
