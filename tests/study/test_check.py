from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.study import check_study, read_study
from tests.study.conftest import DEMO

FIVE_MISTAKES = """\
study:
  slug: five-mistakes
  name: A study with five mistakes
  consent: {version: "1", text: "We keep your answers."}
partnerships:
  - slug: fife
    name: Fife
    timezone: Europe/Kirkcaldy
    projects:
      - slug: family-hub
        name: Family hub approach
        team: {leads: [lorna], participants: [rachel, nobody]}
        cycles:
          - key: cycle-1
            name: Cycle 1
            phases:
              - {name: Scoping, starts_on: 2027-01-04, ends_on: 2027-02-12}
              - {name: Exploring evidence, starts_on: 2027-02-01, ends_on: 2027-04-30}
          - key: cycle-2
            name: Cycle 2
            phases:
              - {name: Scoping, starts_on: 2027-06-01, ends_on: 2027-05-20}
  - slug: glasgow
    name: Glasgow
    projects:
      - slug: family-hub
        name: Another family hub
people:
  - {key: lorna, name: Lorna Kinnear}
  - {key: rachel, name: Rachel Hunter}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_reports_five_different_mistakes_with_their_paths_and_exits_non_zero(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, FIVE_MISTAKES)
    result = CliRunner().invoke(main, ["study", "check", str(path)])
    assert result.exit_code == 1
    expected = [
        "partnerships[0].timezone: unknown time zone 'Europe/Kirkcaldy'",
        "partnerships[0].projects[0].team.participants[1]: unknown person 'nobody'",
        "partnerships[0].projects[0].cycles[0].phases[1].starts_on: starts on 2027-02-01, "
        "overlapping 'Scoping'",
        "partnerships[0].projects[0].cycles[1].phases[0].ends_on: ends on 2027-05-20, "
        "before it starts on 2027-06-01",
        "partnerships[1].projects[0].slug: duplicate project slug 'family-hub'",
    ]
    for problem in expected:
        assert f"{path}: {problem}" in result.output
    assert "5 problems; nothing was loaded." in result.output


def test_the_demo_study_passes_the_check() -> None:
    result = CliRunner().invoke(main, ["study", "check", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert "OK — 4 partnerships, 11 projects" in result.output


def test_a_yaml_syntax_error_is_reported_with_its_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "study:\n  slug: x\n  name: [unclosed\npeople: []\n")
    [problem] = check_study(path)
    assert problem.startswith(f"{path}: line 4, column 7: YAML error")


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    [problem] = check_study(tmp_path / "nowhere.yaml")
    assert "cannot read the file" in problem


def test_an_unknown_key_is_an_error_with_a_suggestion_and_its_line(tmp_path: Path) -> None:
    text = FIVE_MISTAKES.replace("        name: Another family hub\n", "        nmae: Hub\n")
    problems = check_study(_write(tmp_path, text))
    assert any(
        "partnerships[1].projects[0].nmae: unknown key — did you mean 'name'?" in p
        and p.endswith("(line 27)")
        for p in problems
    ), problems
    assert any("partnerships[1].projects[0].name: required, but missing" in p for p in problems)


def test_a_key_given_twice_in_one_mapping_is_an_error(tmp_path: Path) -> None:
    text = FIVE_MISTAKES.replace("    name: Fife\n", "    name: Fife\n    name: Fyfe\n")
    assert any(
        "partnerships[0].name: key given twice" in p for p in check_study(_write(tmp_path, text))
    )


def test_phases_must_belong_to_the_projects_phase_model_and_follow_its_order(
    tmp_path: Path,
) -> None:
    text = FIVE_MISTAKES.replace(
        "{name: Scoping, starts_on: 2027-01-04", "{name: Reflect, starts_on: 2027-01-04"
    )
    text = text.replace(
        "{name: Scoping, starts_on: 2027-06-01, ends_on: 2027-05-20}",
        "{name: Testing change, starts_on: 2027-06-01, ends_on: 2027-06-20}\n"
        "              - {name: Scoping, starts_on: 2027-06-21, ends_on: 2027-07-20}",
    )
    problems = check_study(_write(tmp_path, text))
    assert any(
        "cycles[0].phases[0].name: 'Reflect' is not a phase of 'scoping-exploring-testing'" in p
        for p in problems
    ), problems
    assert any("cycles[1].phases[1].name: 'Scoping' is out of order" in p for p in problems)


def test_bad_cadence_audience_working_hours_and_channels_are_reported_with_paths(
    tmp_path: Path,
) -> None:
    text = FIVE_MISTAKES.replace(
        "        name: Another family hub\n",
        "        name: Another family hub\n"
        "        default_audience: everyone\n"
        "        cadence: {per_week: 3, weekdays: [tue, thu], window: ['15:00', '10:00']}\n",
    ).replace(
        "  - {key: rachel, name: Rachel Hunter}\n",
        "  - key: rachel\n    name: Rachel Hunter\n    working_hours: ['17:00', '09:00']\n"
        "    working_days: [mon, mon]\n    leave: [{from: 2027-03-10, until: 2027-03-01}]\n"
        "    channels: {telegram: '@rachel', slack: {user: rachel, workspace: T123}}\n"
        "    email: rachel-at-fife\n",
    )
    problems = "\n".join(check_study(_write(tmp_path, text)))
    for path in (
        "partnerships[1].projects[0].default_audience: Input should be 'private'",
        "partnerships[1].projects[0].cadence: window must end after it starts",
        "people[1].working_hours: working hours end (09:00) at or before they start (17:00)",
        "people[1].working_days: a working day is listed twice",
        "people[1].leave[0].until: leave ends on 2027-03-01, before it starts on 2027-03-10",
        "people[1].channels.telegram: '@rachel' is not a Telegram chat id",
        "people[1].channels.slack.user: 'rachel' is not a Slack user id",
        "people[1].email: 'rachel-at-fife' is not an email address",
    ):
        assert path in problems


def test_times_written_without_quotes_are_read_as_times(tmp_path: Path) -> None:
    text = FIVE_MISTAKES.replace("timezone: Europe/Kirkcaldy", "timezone: Europe/London")
    text = text[: text.index("  - slug: glasgow")] + text[text.index("people:") :]
    text = text.replace(", nobody]", "]").replace("ends_on: 2027-02-12", "ends_on: 2027-01-31")
    text = text.replace("ends_on: 2027-05-20", "ends_on: 2027-06-20")
    text = text.replace(
        "  - {key: rachel, name: Rachel Hunter}\n",
        "  - {key: rachel, name: Rachel Hunter, working_hours: [8:30, 16:00]}\n",
    )
    checked = read_study(_write(tmp_path, text))
    assert checked.problems == []
    assert checked.study is not None
    assert [f"{t:%H:%M}" for t in checked.study.people[1].working_hours] == ["08:30", "16:00"]


def test_the_demo_study_is_a_full_programme_for_the_engine_and_the_demo() -> None:
    checked = read_study(DEMO)
    assert checked.study is not None, checked.problems
    study = checked.study
    projects = [p for partnership in study.partnerships for p in partnership.projects]
    assert [p.name for p in study.partnerships] == [
        "Aberdeenshire",
        "Fife",
        "Glasgow",
        "West Dunbartonshire",
    ]
    assert len(projects) == 11
    assert 34 <= len(study.people) <= 45
    day, last = date(2026, 9, 1), date(2027, 12, 31)
    for item in projects:
        phases = [phase for cycle in item.cycles for phase in cycle.phases]
        assert phases[0].starts_on == day and phases[-1].ends_on == last, item.slug
        for before, after in pairwise(phases):
            assert after.starts_on == before.ends_on + timedelta(days=1), item.slug
        assert item.team.leads, f"{item.slug} has no lead"
        assert 3 <= len(item.team.participants) <= 6, f"{item.slug}: too small or too big a team"
        assert 2 <= len(item.research_questions) <= 3
    assert {p.phase_model for p in projects} == {
        "scoping-exploring-testing",
        "plan-act-observe-reflect",
    }
    assert {p.cadence.per_week for p in projects} == {1, 2}
    assert any(person.timezone == "America/Toronto" for person in study.people)
    assert any(len(person.working_days) < 5 for person in study.people)
    assert sum(1 for person in study.people if person.leave) >= 3
    assert all(
        person.channels.telegram is None and person.channels.slack is None
        for person in study.people
    )


def test_the_study_file_example_in_the_readme_is_valid(tmp_path: Path) -> None:
    readme = (DEMO.parents[1] / "README.md").read_text("utf-8")
    section = readme[readme.index("## Study file") :]
    example = section[
        section.index("```yaml\n") + 8 : section.index("```\n", section.index("```yaml"))
    ]
    checked = read_study(_write(tmp_path, example))
    assert checked.problems == []
    assert checked.study is not None and checked.study.people[1].channels.slack is not None


def test_a_project_without_a_lead_passes_the_check_with_a_warning(tmp_path: Path) -> None:
    text = (
        "study: {slug: s, name: S, consent: {version: '1', text: Kept safe.}}\n"
        "partnerships:\n  - slug: fife\n    name: Fife\n    projects:\n"
        "      - {slug: hub, name: Hub, team: {participants: [rachel]}}\n"
        "people:\n  - {key: rachel, name: Rachel Hunter}\n  - {key: sam, name: Sam Lee}\n"
    )
    result = CliRunner().invoke(main, ["study", "check", str(_write(tmp_path, text))])
    assert result.exit_code == 0, result.output
    assert "partnerships[0].projects[0].team: no lead: nobody gets this project's digest" in (
        result.output
    )
    assert "people[1]: 'sam' is in no project's team (line 9)" in result.output


def test_the_check_warns_about_a_team_too_small_for_anonymous_reporting(tmp_path: Path) -> None:
    text = (
        "study: {slug: s, name: S, consent: {version: '1', text: Kept safe.}}\n"
        "partnerships:\n  - slug: fife\n    name: Fife\n    projects:\n"
        "      - {slug: hub, name: Hub, team: {leads: [lorna], participants: [rachel, sam]}}\n"
        "      - {slug: big, name: Big, team: {leads: [lorna], participants: [rachel, sam, ali]}}\n"
        "people:\n  - {key: lorna, name: Lorna}\n  - {key: rachel, name: Rachel Hunter}\n"
        "  - {key: sam, name: Sam Lee}\n  - {key: ali, name: Ali Khan}\n"
    )
    result = CliRunner().invoke(main, ["study", "check", str(_write(tmp_path, text))])
    assert result.exit_code == 0, result.output
    assert "partnerships[0].projects[0].team.participants: only 2 participants: too few for " in (
        result.output
    )
    assert "anonymous reporting (at least 3 are needed)" in result.output
    assert "projects[1].team.participants: only" not in result.output


def test_the_studys_own_prompts_are_checked_by_the_prompt_library(tmp_path: Path) -> None:
    text = (
        "study:\n  slug: s\n  name: S\n  consent: {version: '1', text: Kept safe.}\n"
        "  prompts:\n    mode: extend\n    items:\n"
        "      - {key: my-prompt, kind: banana, text: 'How did it go?'}\n"
    )
    problems = check_study(_write(tmp_path, text))
    assert len(problems) == 1
    assert "study.prompts.items[0].kind: Input should be 'text'" in problems[0]
    assert problems[0].endswith("(line 8)")


def test_a_blank_section_means_its_default_and_a_blank_name_is_missing(tmp_path: Path) -> None:
    text = (
        "study: {slug: s, name: S, consent: {version: '1', text: Kept safe.}}\n"
        "partnerships:\n  - slug: fife\n    name: Fife\n    projects:\n"
        "      - slug: hub\n        name:\n        research_questions:\n        team:\n"
        "people:\n"
    )
    assert [p.split(": ", 1)[1] for p in check_study(_write(tmp_path, text))] == [
        "partnerships[0].projects[0].name: required, but missing (line 7)"
    ]


def test_impossible_dates_are_reported_at_their_fields_alongside_the_other_mistakes(
    tmp_path: Path,
) -> None:
    text = FIVE_MISTAKES.replace("ends_on: 2027-02-12", "ends_on: 2027-02-30").replace(
        "  - {key: rachel, name: Rachel Hunter}\n",
        "  - {key: rachel, name: Rachel Hunter, leave: [{from: 2027-04-01, until: 2027-04-31}]}\n",
    )
    path = _write(tmp_path, text)
    result = CliRunner().invoke(main, ["study", "check", str(path)])

    assert result.exit_code == 1
    assert "Traceback" not in result.output and "ValueError" not in result.output
    assert (
        f"{path}: partnerships[0].projects[0].cycles[0].phases[0].ends_on: 2027-02-30 is not a "
        "date: February 2027 has 28 days, not 30 (line 17)"
    ) in result.output
    assert (
        f"{path}: people[1].leave[0].until: 2027-04-31 is not a date: April 2027 has 30 days, "
        "not 31 (line 30)"
    ) in result.output
    assert "unknown time zone 'Europe/Kirkcaldy'" in result.output  # the others are still there
    assert "duplicate project slug 'family-hub'" in result.output


def test_a_file_that_is_not_utf8_is_refused_with_the_line_and_column_of_the_first_bad_byte(
    tmp_path: Path,
) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("study:\n  slug: x\n  name: Café Ünïon\n".encode("latin-1"))
    [problem] = check_study(path)
    assert problem == (
        f"{path}: line 3, column 12: not UTF-8 text (byte 0xe9); save the file as UTF-8"
    )


def test_a_file_over_five_megabytes_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as out:
        out.truncate(5 * 1024 * 1024 + 1)

    def never(self: Path) -> bytes:
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_bytes", never)
    [problem] = check_study(path)
    assert problem == (f"{path}: 5,242,881 bytes is too large for a study file (the limit is 5 MB)")


def test_retention_periods_are_checked_with_their_paths(write_study) -> None:  # type: ignore[no-untyped-def]
    from tests.study.conftest import demo_data

    data = demo_data()
    data["study"]["retention"] = {
        "reflections": "24 monhts",
        "evidence": 90,
        "inbound_events": "2 days",
        "audit_log": "3 years",
    }
    problems = "\n".join(check_study(write_study(data)))
    assert "study.retention.reflections: '24 monhts' is not a duration" in problems
    assert "e.g. '24 months' or '90 days'" in problems
    assert "study.retention.evidence: 90 has no unit: write e.g. '90 days'" in problems
    assert "study.retention.inbound_events: '2 days' is too short: keep them at least 7" in problems
    assert "audit_log" not in problems

    data["study"]["retention"] = {"reflections": "12 months", "evidence": "2 years"}
    problems = "\n".join(check_study(write_study(data)))
    assert "study.retention: evidence files go with their reflection" in problems

    data["study"]["retention"] = {"reflections": "24 Months", "evidence": "90 days"}
    assert check_study(write_study(data)) == []
    checked = read_study(write_study(data))
    assert checked.study is not None
    assert checked.study.study.retention.days() == {
        "reflections": 720,
        "evidence": 90,
    }


def test_a_monthly_time_budget_is_checked_and_loaded(write_study) -> None:  # type: ignore[no-untyped-def]
    from tests.study.conftest import demo_data

    data = demo_data()
    for wrong in (5, "half an hour", 900):
        data["study"]["time_budget_minutes"] = wrong
        problems = "\n".join(check_study(write_study(data)))
        assert "study.time_budget_minutes" in problems, wrong
    data["study"]["time_budget_minutes"] = 30
    assert check_study(write_study(data)) == []
    checked = read_study(write_study(data))
    assert checked.study is not None and checked.study.study.time_budget_minutes == 30
