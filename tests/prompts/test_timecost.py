"""Time spent: each answer's estimate follows the method stated in the README."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from bot.cli import main
from bot.cli.simulate import simulate_database
from prompts.schedule import within_budget
from prompts.simulation import simulate
from prompts.timecost import CAP, FILE_SECONDS, TAP_SECONDS, Part, answer_seconds, minutes

SENT = datetime(2027, 3, 23, 10, 30, tzinfo=UTC)
QUESTION = " ".join(["word"] * 20)  # 20 words: 6 s at 200 words a minute


def test_an_answer_within_ten_minutes_of_the_prompt_costs_that_interval() -> None:
    text = [Part("text", "a long answer " * 50)]
    assert answer_seconds(QUESTION, text, SENT, SENT + timedelta(minutes=4)) == 240
    assert answer_seconds(QUESTION, text, SENT, SENT + timedelta(seconds=CAP)) == CAP
    # a quick tap still counts as a tap
    assert answer_seconds(QUESTION, [Part("scale")], SENT, SENT + timedelta(seconds=3)) == 20


def test_a_later_answer_costs_its_length_and_kind() -> None:
    later = SENT + timedelta(hours=3)
    assert answer_seconds(QUESTION, [Part("scale")], SENT, later) == TAP_SECONDS
    assert answer_seconds(QUESTION, [Part("choice")]) == TAP_SECONDS
    # 6 s reading the question + 30 words written at 30 a minute
    thirty = " ".join(["word"] * 30)
    assert answer_seconds(QUESTION, [Part("text", thirty)], SENT, later) == 6 + 60
    # a photo with a 15-word caption: 6 + 30 + 60
    caption = " ".join(["word"] * 15)
    assert answer_seconds(QUESTION, [Part("evidence", caption, files=1)]) == 6 + 30 + FILE_SECONDS
    # a sentence and a follow-up photo add up
    assert answer_seconds(QUESTION, [Part("text", thirty), Part("evidence", "", 1)]) == 6 + 60 + 60


def test_no_answer_counts_for_more_than_ten_minutes() -> None:
    essay = " ".join(["word"] * 1000)
    assert answer_seconds(QUESTION, [Part("text", essay)]) == CAP == 600
    assert answer_seconds(QUESTION, [Part("evidence", "", files=30)]) == CAP


def test_minutes_are_rounded_for_people_to_read() -> None:
    assert (minutes(0), minutes(20), minutes(89), minutes(91), minutes(540)) == (0, 1, 1, 2, 9)


def test_the_budget_keeps_each_month_within_it_holding_the_cap_for_each_new_prompt() -> None:
    zone = ZoneInfo("Europe/London")
    slots = [datetime(2027, 3, d, 10, tzinfo=UTC) for d in (2, 9, 16, 23, 30)]
    spent = [(datetime(2027, 3, 1, 10, tzinfo=UTC), 700), (datetime(2027, 2, 1, tzinfo=UTC), 900)]
    # 1800 s: 700 spent, room for one more prompt held at 600 s (700 + 600 + 600 > 1800)
    assert within_budget(slots, zone, spent, 1800, CAP) == slots[:1]
    assert within_budget(slots, zone, spent, None, CAP) == slots
    april = [datetime(2027, 3, 31, 23, 30, tzinfo=UTC)]  # 00:30 on 1 April in London
    assert within_budget(april, zone, spent, 1000, CAP) == april


def test_the_time_budget_holds_in_carbot_simulate() -> None:
    free = simulate(days=90, people=60, start=date(2027, 1, 1), seed=2, step_hours=12)
    held = simulate(
        days=90, people=60, start=date(2027, 1, 1), seed=2, step_hours=12, time_budget_minutes=15
    )
    assert free.max_minutes_per_month > 15  # without a budget some months take longer
    assert held.max_minutes_per_month <= 15
    assert held.budget_breaches == 0 and held.violations() == 0
    assert 0 < held.prompts < free.prompts


async def test_the_time_budget_holds_through_the_real_planner() -> None:
    report = await simulate_database(
        days=35, people=15, start=date(2027, 3, 1), seed=4, step_hours=12, time_budget_minutes=30
    )
    assert report.prompts > 0 and report.budget_breaches == 0
    assert report.max_minutes_per_month <= 30


def test_the_simulate_command_reports_the_budget() -> None:
    result = CliRunner().invoke(
        main, ["simulate", "--days", "40", "--people", "20", "--time-budget", "15"]
    )
    assert result.exit_code == 0, result.output
    assert "(budget 15); time-budget breaches: 0" in result.output
    refused = CliRunner().invoke(main, ["simulate", "--time-budget", "5"])
    assert refused.exit_code == 2
