"""After `carbot demo up --no-run`, the demo shows the product: teams of three to six, answers
inside working hours, a digest with reflections for every lead, a coded review, and themes
that are not the study's filler words."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.demo.setup import DemoReady
from bot.reports.context import build_context_report
from bot.reports.viewers import study_library
from bot.review.access import cli_viewer
from bot.services import Services
from bot.settings import Settings
from digests.cross import build_cross
from digests.data import build_weekly
from digests.schedule import Week, schedule_for
from prompts.schedule import is_working_time, working_pattern
from storage.models import Code, Coding, Membership, Memo, Project, Reflection
from tests.conftest import make_settings
from tests.support.demo_site import prepared_demo
from tests.support.environment import without_carbot_environment

ROOT = Path(__file__).resolve().parents[2]
FILLER = ("meeting", "next", "gathered", "looking", "follow")


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, DemoReady]:
    """The demo (``prepare_demo``'s database, made once per run and copied) for the module:
    every test here only reads it."""

    with without_carbot_environment():
        settings = make_settings(tmp_path_factory.mktemp("demo"))
    return settings, asyncio.run(prepared_demo(settings))


@pytest.fixture
async def demo(
    demo_database: tuple[Settings, DemoReady],
) -> AsyncIterator[tuple[Services, DemoReady]]:
    """The module's demo, on services of the test's own (its own event loop's connections)."""
    settings, ready = demo_database
    services = Services.from_settings(settings)
    yield services, ready
    await services.close()


def _last_full_week(ready: DemoReady) -> Week:
    today = ready.start.astimezone(ZoneInfo(ready.zone)).date()
    return Week.containing(today - timedelta(days=7))


async def _projects(services: Services) -> list[Project]:
    async with services.sessions() as session:
        found = await session.scalars(
            select(Project)
            .where(Project.active.is_(True))
            .options(
                selectinload(Project.partnership),
                selectinload(Project.memberships).selectinload(Membership.person),
            )
        )
        return list(found)


async def test_every_demo_team_has_three_to_six_participants(
    demo: tuple[Services, DemoReady],
) -> None:
    services, _ready = demo
    for project in await _projects(services):
        participants = {m.person_id for m in project.memberships if m.role == "participant"}
        assert 3 <= len(participants) <= 6, f"{project.name} has {len(participants)}"


async def test_every_lead_digest_of_the_last_full_week_holds_reflections(
    demo: tuple[Services, DemoReady],
) -> None:
    services, ready = demo
    week = _last_full_week(ready)
    async with services.sessions() as session:
        for project in await _projects(services):
            digest = await build_weekly(
                session,
                project,
                week,
                ZoneInfo(project.partnership.timezone),
                public_url="http://127.0.0.1:8000",
                schedule=schedule_for({}, project.digest),
            )
            assert digest.shown_count >= 1, f"{project.name}'s digest for {week.label} is empty"


async def test_no_seeded_answer_falls_outside_the_persons_working_hours(
    demo: tuple[Services, DemoReady],
) -> None:
    services, _ready = demo
    async with services.sessions() as session:
        reflections = list(
            await session.scalars(
                select(Reflection).options(
                    selectinload(Reflection.person),
                    selectinload(Reflection.project).selectinload(Project.partnership),
                )
            )
        )
    assert len(reflections) > 150
    for reflection in reflections:
        assert reflection.project is not None
        pattern = working_pattern(reflection.person, reflection.project.partnership.timezone)
        local = reflection.created_at.astimezone(pattern.zone)
        assert is_working_time(reflection.created_at, pattern), (
            f"{reflection.person.key} answered at {local:%a %d %b %H:%M}"
        )


async def test_the_review_has_a_nested_codebook_with_codings_and_memos(
    demo: tuple[Services, DemoReady],
) -> None:
    services, ready = demo
    async with services.sessions() as session:
        codes = list(await session.scalars(select(Code)))
        codings = await session.scalar(select(func.count()).select_from(Coding))
        memos = await session.scalar(select(func.count()).select_from(Memo))
    assert len(codes) >= 6 and any(code.parent_id is not None for code in codes)
    assert (codings or 0) >= 10 and (memos or 0) >= 3
    assert ready.seeded is not None and "codings" in str(ready.seeded)


async def test_the_cross_partnership_themes_are_not_the_studys_filler_words(
    demo: tuple[Services, DemoReady],
) -> None:
    services, ready = demo
    async with services.sessions() as session:
        digest = await build_cross(
            session, _last_full_week(ready), ZoneInfo(ready.zone), public_url="http://x"
        )
    themes = [theme.term for theme in digest.shared_themes]
    assert themes, "the demo's cross-partnership digest has no shared themes"
    words = {word for term in themes for word in term.split()}
    assert not words & set(FILLER), themes


def test_demo_up_with_no_run_does_not_claim_to_run(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CARBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'carbot.db'}",
        "CARBOT_DATA_DIR": str(tmp_path / "data"),
        "CARBOT_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "carbot"), "demo", "up", "--no-run", "--weeks", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Nothing is running (--no-run)" in result.stdout
    assert "Ctrl+C" not in result.stdout and "faster than real time" not in result.stdout
    saved = (tmp_path / "data" / "demo-clock.json").read_text()
    assert '"speed": 60' in saved  # `carbot run` carries the demo clock on from here


def test_carbot_run_carries_on_the_demo_clock_where_the_demo_left_it(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from bot.cli.run import demo_clock_carried_on
    from bot.clock import ScaledClock, save_demo_clock
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    assert demo_clock_carried_on(settings) is None  # never a demo here: the real clock
    left = datetime(2026, 11, 30, 9, 55, tzinfo=UTC)
    save_demo_clock(settings.data_dir, left, 60.0)
    clock = demo_clock_carried_on(settings)
    assert isinstance(clock, ScaledClock)
    assert (clock.speed, abs((clock.now() - left).total_seconds()) < 60) == (60.0, True)
    (settings.data_dir / "demo-clock.json").write_text("{not json")
    assert demo_clock_carried_on(settings) is None


async def test_the_demo_shows_a_context_report_for_its_last_retreat(
    demo: tuple[Services, DemoReady],
) -> None:
    services, ready = demo
    assert ready.context_report is not None
    query = parse_qs(urlparse(ready.context_report).query)
    project, event = query["project"][0], query["event"][0]
    async with services.sessions() as session:
        report = await build_context_report(
            session, cli_viewer(), await study_library(session), project, event
        )
    filled = [topic for topic, quotes in report.sections.items() if quotes]
    assert filled == ["background", "status", "challenges", "evidence", "gaps"]
    assert report.gaps and report.research_questions
