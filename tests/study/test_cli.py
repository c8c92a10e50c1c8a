"""``carbot study …`` and ``carbot status`` as an admin runs them (click's CliRunner)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import main
from bot.services import Services
from bot.study.status import standing
from storage.db import transaction
from storage.models import Delivery, Digest, Person, Project
from tests.conftest import make_settings
from tests.study.conftest import DEMO


def carbot(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def database(any_db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CARBOT_DATABASE_URL", any_db_url)
    return any_db_url


async def _add_traffic(url: str, tmp_path: Path) -> None:
    services = Services.from_settings(make_settings(tmp_path, url))
    try:
        async with transaction(services.sessions) as session:
            people = list(await session.scalars(select(Person).order_by(Person.id).limit(6)))
            hub = await session.scalar(select(Project).where(Project.slug == "fife-family-hub"))
            budget = await session.scalar(
                select(Project).where(Project.slug == "glasgow-community-budgeting")
            )
            assert hub is not None and budget is not None
            week = [
                (people[0], hub, datetime(2026, 11, 30, 10, tzinfo=UTC), "answered"),
                (people[1], hub, datetime(2026, 12, 1, 11, tzinfo=UTC), "sent"),
                (people[2], hub, datetime(2026, 12, 3, 10, tzinfo=UTC), "planned"),
                (people[3], hub, datetime(2026, 12, 6, 14, tzinfo=UTC), "planned"),
                (people[4], budget, datetime(2026, 12, 2, 10, tzinfo=UTC), "answered"),
                (people[5], budget, datetime(2026, 12, 8, 10, tzinfo=UTC), "planned"),  # next week
            ]
            for person, project, slot, status in week:
                session.add(
                    Delivery(
                        person_id=person.id,
                        project_id=project.id,
                        slot=slot,
                        due_at=slot,
                        prompt_key="scoping.what-changed",
                        prompt_kind="text",
                        prompt_text="What changed this week?",
                        status=status,
                    )
                )
            for recipient, status, error in (
                ("fiona.gordon@aberdeenshire.example.org", "sent", None),
                ("hamish.forbes@aberdeenshire.example.org", "sent", None),
                ("lorna.kinnear@fife.example.org", "failed", "SMTP 550 mailbox unavailable"),
            ):
                session.add(
                    Digest(
                        kind="lead_weekly",
                        recipient=recipient,
                        scope="project:fife-family-hub",
                        period="2026-W48",
                        status=status,
                        attempts=3 if error else 1,
                        last_error=error,
                    )
                )
    finally:
        await services.close()


def test_status_shows_phases_days_left_roles_this_weeks_deliveries_and_failed_digests(
    database: str, tmp_path: Path
) -> None:
    loaded = carbot("study", "load", str(DEMO))
    assert loaded.exit_code == 0, loaded.output
    assert "created: 35 cycles" in loaded.output
    asyncio.run(_add_traffic(database, tmp_path))

    result = carbot("status", "--at", "2026-12-01T09:00")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Fife (Europe/London, Tue 01 Dec)" in out
    assert (
        "Schools initiative: Cycle 1 · Exploring evidence, until Mon 07 Dec 2026 (6 days left)"
        in out
    )
    assert "In-work poverty: Cycle 1 · Observe, until Tue 01 Dec 2026 (ends today)" in out
    assert "Family hub approach: Cycle 1 · Exploring evidence" in out
    assert "    this week: 2 planned · 1 sent · 1 answered" in out
    assert "People: 39 active (24 participants, 10 leads, 4 researchers, 1 admin)" in out
    assert "1 paused or on leave today" in out
    assert "Deliveries this week (2026-W49): 2 planned · 1 sent · 2 answered" in out
    assert "Digests: 2 sent, 0 skipped, 1 failed, 0 pending, 0 sending" in out
    assert (
        "failed: lead_weekly to lorna.kinnear@fife.example.org for project:fife-family-hub, "
        "2026-W48 (3 attempts): SMTP 550 mailbox unavailable"
    ) in out


def test_status_on_an_empty_database_says_what_to_do(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CARBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    result = carbot("status")
    assert result.exit_code == 0
    assert "Run `carbot db upgrade`, then load a study with `carbot study load FILE`" in (
        result.output
    )
    assert carbot("db", "upgrade").exit_code == 0
    result = carbot("status")
    assert "No study is loaded yet. Load one with `carbot study load FILE`" in result.output


def test_status_refuses_a_when_that_is_not_a_date() -> None:
    result = carbot("status", "--at", "next tuesday")
    assert result.exit_code == 2
    assert "'next tuesday' is not a date or time" in result.output


def test_days_left_are_counted_in_the_partnerships_own_time_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'zone.db'}")
    path = tmp_path / "auckland.yaml"
    path.write_text(
        "study: {slug: zones, name: Zones, consent: {version: '1', text: Kept safe.}}\n"
        "partnerships:\n"
        "  - slug: auckland\n    name: Auckland\n    timezone: Pacific/Auckland\n"
        "    projects:\n      - slug: harbour\n        name: Harbour\n        cycles:\n"
        "          - key: c1\n            name: Cycle 1\n            phases:\n"
        "              - {name: Scoping, starts_on: 2027-01-01, ends_on: 2027-01-10}\n"
        "              - {name: Testing change, starts_on: 2027-01-20, ends_on: 2027-02-10}\n",
        encoding="utf-8",
    )
    assert carbot("study", "load", str(path)).exit_code == 0
    # 12:00 UTC on 9 January is already 10 January in Auckland: the last day of Scoping
    assert "Harbour: Cycle 1 · Scoping, until Sun 10 Jan 2027 (ends today)" in (
        carbot("status", "--at", "2027-01-09T12:00+00:00").output
    )
    assert "Harbour: between phases; Cycle 1 · Testing change starts Wed 20 Jan 2027" in (
        carbot("status", "--at", "2027-01-12").output
    )


def test_a_projects_standing_before_during_between_and_after_its_phases() -> None:
    phases = [
        ("Cycle 1", "Scoping", date(2027, 1, 4), date(2027, 1, 29)),
        ("Cycle 1", "Exploring evidence", date(2027, 2, 8), date(2027, 3, 31)),
    ]
    assert standing(phases, date(2027, 1, 1)).state == "not_started"
    assert standing(phases, date(2027, 1, 4)).days_left == 25
    assert standing(phases, date(2027, 2, 1)).describe() == (
        "between phases; Cycle 1 · Exploring evidence starts Mon 08 Feb 2027"
    )
    assert standing(phases, date(2027, 4, 1)).describe() == (
        "finished: the last phase ended Wed 31 Mar 2027"
    )
    assert standing([], date(2027, 4, 1)).describe() == "no cycles yet"


def test_study_load_with_a_mistake_exits_non_zero_and_loads_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        DEMO.read_text("utf-8").replace("timezone: Europe/Warsaw", "timezone: Warsaw")
    )
    result = carbot("study", "load", str(broken))
    assert result.exit_code == 1
    assert "people[2].timezone: unknown time zone 'Warsaw'" in result.output
    assert "1 problem; nothing was loaded." in result.output
    assert "No study is loaded yet" in carbot("status").output


def test_study_show_prints_projects_cycles_teams_and_study_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    assert carbot("study", "load", str(DEMO)).exit_code == 0
    result = carbot("study", "show", "--people")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Kirkcaldy welfare hub (fife-kirkcaldy-welfare-hub)" in out
    assert "2 prompt(s) a week on mon, thu, at 10:30" in out
    assert "      Exploring evidence: 2026-10-13 – 2026-12-25" in out
    assert "    leads: Gillian Rennie, Lorna Kinnear" in out
    assert "People: 39 active, 0 inactive" in out
    assert "priya-raman: Priya Raman, mon,tue,wed,thu,fri 09:00–17:30 (America/Toronto)" in out
