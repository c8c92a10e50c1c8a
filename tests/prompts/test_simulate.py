"""``carbot simulate``: a year of planning for 200 generated people breaks no rule."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.cli.simulate import simulate, simulate_database


def test_a_year_of_2027_for_200_people_breaks_no_rule() -> None:
    report = simulate(days=365, people=200, start=date(2027, 1, 1), seed=1, step_hours=12)

    assert report.prompts > 200 * 52  # people really were prompted, most weeks
    assert 1.0 < report.mean_per_week <= 3.0
    assert report.max_per_week <= 3
    assert report.outside_working_hours == 0
    assert report.on_bank_holidays == 0
    assert report.during_leave == 0
    assert report.cap_breaches == 0
    assert report.max_reminders_per_prompt == 1
    assert report.reminders_outside_working_hours == 0
    assert report.same_prompt_twice_in_a_row == 0
    assert 0 < report.reminders < report.prompts - report.answered
    assert report.violations() == 0


def test_the_report_catches_a_planner_that_breaks_the_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import prompts.simulation as module

    def careless(cadence, pattern, phases, start, end, *, seed, taken=()):  # type: ignore[no-untyped-def]
        # Saturday 1 May 2027, 03:00 in London; and the bank holiday Monday at noon
        wanted = [datetime(2027, 5, 1, 2, tzinfo=UTC), datetime(2027, 5, 3, 11, tzinfo=UTC)]
        return [t for t in wanted if start <= t < end and t not in taken] * 4

    monkeypatch.setattr(module, "plan_slots", careless)
    report = simulate(days=7, people=5, start=date(2027, 4, 28), seed=1)

    assert report.outside_working_hours >= 5 * 4
    assert report.on_bank_holidays >= 5 * 4
    assert report.cap_breaches >= 5
    assert report.violations() > 0


async def test_the_real_planner_on_a_database_plans_the_very_same_instants() -> None:
    # 20 people over the spring clock change, Good Friday and the May bank holiday
    pure = simulate(days=56, people=20, start=date(2027, 3, 15), seed=3, step_hours=12)
    real = await simulate_database(
        days=56, people=20, start=date(2027, 3, 15), seed=3, step_hours=12
    )

    assert real.prompts == pure.prompts > 100
    assert real.fingerprint == pure.fingerprint
    assert real.violations() == 0


def test_the_same_seed_simulates_the_same_year() -> None:
    first = simulate(days=60, people=30, start=date(2027, 3, 1), seed=7)
    second = simulate(days=60, people=30, start=date(2027, 3, 1), seed=7)

    assert first.lines() == second.lines()


def test_the_simulate_command_reports_zeros_and_succeeds() -> None:
    result = CliRunner().invoke(
        main, ["simulate", "--days", "90", "--people", "40", "--start", "2027-10-01"]
    )

    assert result.exit_code == 0, result.output
    assert "prompts outside working hours: 0" in result.output
    assert "prompts on Scottish bank holidays: 0" in result.output
    assert "reminders per prompt: max 1" in result.output
    assert "weekly-cap breaches: 0" in result.output
    assert "prompts per person per week: mean" in result.output


def test_the_simulate_command_refuses_nonsense() -> None:
    result = CliRunner().invoke(main, ["simulate", "--days", "0"])

    assert result.exit_code == 2
    assert "--days" in result.output
