"""The digest HTML in headless Chromium: no horizontal scrolling on a phone or a desktop, no
critical or serious axe-core violation (WCAG 2.2 A and AA) on its own, and ``carbot digest
preview --png`` saves screenshots at both widths."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.cli.digest import CHROMIUM_ARGS, render_preview
from bot.services import Services
from storage.db import transaction
from storage.models import Membership
from tests.conftest import chromium_path, make_settings, requires_chromium
from tests.digests.factory import (
    MONDAY,
    add_delivery,
    add_person,
    add_reflection,
    add_study,
    add_team,
    at,
)
from tests.digests.helpers import bodies
from tests.support.schema import create_schema

pytestmark = [requires_chromium, pytest.mark.browser]

LONG_WORD = "Antidisestablishmentarianism" * 6
LONG_LINK = "https://example.org/" + "a-very-long-path-segment/" * 8


async def _rich_week(services: Any) -> None:
    async with transaction(services.sessions) as session:
        await add_study(session)
        team = await add_team(session, name="A project with a rather long name " + LONG_WORD[:40])
        other = await add_team(
            session,
            slug="angus",
            name="Angus",
            lead_email="a@example.org",
            partnership_name="Angus",
        )
        researcher = await add_person(session, "R", email="r@uni.example")
        session.add(
            Membership(person_id=researcher.id, project_id=team.project.id, role="researcher")
        )
        scale = [
            {"value": "1", "label": "Not at all well"},
            {"value": "5", "label": "Extremely well"},
        ]
        for index, member in enumerate(team.members):
            day = at(MONDAY + timedelta(days=index % 5), 9 + index)
            delivery = await add_delivery(session, team, member, day)
            await add_reflection(
                session,
                team,
                member,
                f"{LONG_WORD} {LONG_LINK} families and community transport {index}",
                delivery=delivery,
                audience="team_anonymous" if index % 2 else "team",
                photo=f"{LONG_WORD}.jpg" if index == 0 else None,
            )
            rating = await add_delivery(
                session,
                team,
                member,
                day + timedelta(hours=1),
                prompt_text="How well did the " + LONG_WORD[:60] + " go?",
                prompt_kind="scale",
                options=scale,
            )
            await add_reflection(
                session, team, member, kind="scale", scale_value=1 + index % 5, delivery=rating
            )
        await add_reflection(session, other, other.members[0], "community transport " + LONG_WORD)


async def _overflow(html_pages: list[str], widths: tuple[int, ...]) -> list[tuple[int, int, int]]:
    from playwright.async_api import async_playwright

    found = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            for index, html in enumerate(html_pages):
                for width in widths:
                    page = await browser.new_page(viewport={"width": width, "height": 900})
                    await page.set_content(html)
                    scroll, inner = await page.evaluate(
                        "[document.documentElement.scrollWidth, window.innerWidth]"
                    )
                    found.append((index, width, scroll - inner))
                    await page.close()
        finally:
            await browser.close()
    return found


async def test_digests_fit_a_phone_and_a_desktop_without_horizontal_scrolling(
    services: Any,
) -> None:
    await _rich_week(services)
    weekly = await render_preview(services, "family-hub", "2027-W10")
    cross = await render_preview(services, None, "2027-W10")
    pages = [bodies(weekly)[1], bodies(cross)[1]]
    assert LONG_WORD in pages[0] and "Across partnerships" in pages[1]

    overflow = await _overflow(pages, (375, 800))

    assert overflow == [(0, 375, 0), (0, 800, 0), (1, 375, 0), (1, 800, 0)]


async def _axe_violations(html: str, widths: tuple[int, ...]) -> dict[int, list[Any]]:
    """axe-core's critical and serious violations of ``html`` as a page of its own, by width (the
    outbox shows it in a sandboxed frame, which axe does not enter)."""
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    from tests.review.test_browser_pages import WCAG

    axe = Axe()
    found: dict[int, list[Any]] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            for width in widths:
                page = await browser.new_page(viewport={"width": width, "height": 900})
                await page.set_content(html)
                results = await axe.run(page, options={"runOnly": WCAG})
                found[width] = [
                    (v["id"], v["impact"], [n["html"][:120] for n in v["nodes"]][:3])
                    for v in results.response["violations"]
                    if v["impact"] in ("critical", "serious")
                ]
                await page.close()
        finally:
            await browser.close()
    return found


async def test_axe_finds_no_critical_or_serious_violation_in_a_lead_digest_or_the_cross_digest(
    services: Any,
) -> None:
    await _rich_week(services)
    weekly = bodies(await render_preview(services, "family-hub", "2027-W10"))[1]
    cross = bodies(await render_preview(services, None, "2027-W10"))[1]
    assert LONG_WORD in weekly and "Across partnerships" in cross

    found = {
        "lead digest": await _axe_violations(weekly, (390, 1280)),
        "cross-partnership digest": await _axe_violations(cross, (390, 1280)),
    }

    assert found == {name: {390: [], 1280: []} for name in found}, found


def _database(tmp_path: Path, fill: Callable[[Services], Awaitable[None]] | None = None) -> Any:
    """Settings for a fresh SQLite database with the schema, filled by ``fill``."""
    settings = make_settings(tmp_path)

    async def setup() -> None:
        services = Services.from_settings(settings)
        await create_schema(services.engine)
        if fill is not None:
            await fill(services)
        await services.close()

    asyncio.run(setup())
    return settings


def _png_width(path: Path) -> int:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return int(struct.unpack(">I", header[16:20])[0])


def test_preview_writes_html_text_and_screenshots_at_both_widths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _database(tmp_path, _rich_week)
    monkeypatch.setenv("CARBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CARBOT_SECRET_KEY", "x")
    out = tmp_path / "previews"

    result = CliRunner().invoke(
        main,
        [
            "digest",
            "preview",
            "--project",
            "family-hub",
            "--week",
            "2027-W10",
            "--out",
            str(out),
            "--png",
        ],
    )

    assert result.exit_code == 0, result.output
    printed = [Path(line) for line in result.output.split()]
    assert [p.name for p in printed] == [
        "family-hub-2027-W10.html",
        "family-hub-2027-W10.txt",
        "family-hub-2027-W10-375.png",
        "family-hub-2027-W10-800.png",
    ]
    assert ">A project with a rather long name" in printed[0].read_text()
    assert LONG_WORD in printed[1].read_text()
    assert [_png_width(p) for p in printed[2:]] == [375, 800]


def test_preview_of_an_unknown_project_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _database(tmp_path)
    monkeypatch.setenv("CARBOT_DATABASE_URL", settings.database_url)

    result = CliRunner().invoke(
        main, ["digest", "preview", "--project", "nope", "--week", "2027-W10"]
    )

    assert result.exit_code != 0
    assert "no project with slug 'nope'" in result.output
