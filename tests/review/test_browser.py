"""The review workspace in headless Chromium: sign in, filter, search, code a span, write a
memo, export — and a lead who types another partnership's reflection URL gets 404."""

from __future__ import annotations

import asyncio
import csv
import io
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from bot.review.access import cli_viewer
from bot.review.coding import add_code
from bot.services import Services
from bot.settings import Settings
from bot.web.app import create_app
from storage.models import Partnership
from tests.conftest import chromium_path, make_settings, requires_chromium
from tests.review.conftest import GAELIC, PASSWORD, World, build_world
from tests.support.environment import without_carbot_environment
from tests.support.schema import create_schema

pytestmark = [requires_chromium, pytest.mark.browser]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(settings: Settings) -> Iterator[tuple[str, World]]:
    """The review world in ``settings``' database, served on loopback until the block ends."""

    async def prepare() -> World:
        services = Services.from_settings(settings)
        await create_schema(services.engine)
        world = await build_world(services, settings.data_dir)
        async with services.sessions() as session, session.begin():
            await add_code(session, cli_viewer(), "Place", color="#2a9d8f")
            # long names, as real partnerships have them, must wrap on a phone
            fife = await session.get(Partnership, world.partnerships["fife"])
            assert fife is not None
            fife.name = "Fife Children and Families Strategic Partnership Collaborative"
        await services.close()
        return world

    # in a thread of its own: the module's browser may already be running its event loop here
    with ThreadPoolExecutor(1) as worker:
        world = worker.submit(asyncio.run, prepare()).result()
    port = _free_port()
    app = create_app(Services.from_settings(settings))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web app did not start"
    try:
        yield f"http://127.0.0.1:{port}", world
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, World]]:
    """A world of the test's own, for the tests that code and write memos."""
    with _serving(make_settings(tmp_path)) as site:
        yield site


@pytest.fixture(scope="module")
def served_to_read(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    """One world for the module's tests that only sign in and look: none of them changes it."""
    with without_carbot_environment():
        settings = make_settings(tmp_path_factory.mktemp("review"))
    with _serving(settings) as site:
        yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/review/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/review/**")


def test_a_researcher_signs_in_filters_searches_codes_writes_a_memo_and_exports(
    served: tuple[str, World], browser
) -> None:  # type: ignore[no-untyped-def]
    base, world = served
    page = browser.new_page(viewport={"width": 390, "height": 844}, accept_downloads=True)
    _sign_in(page, base, "researcher@example.org")
    assert page.get_by_role("heading", name="Reflections", exact=True).is_visible()

    page.get_by_label("Answer type").select_option("evidence")
    page.get_by_role("button", name="Show reflections").click()
    assert page.locator("#results").inner_text() == "1 reflection"

    page.goto(f"{base}/review/reflections")
    page.get_by_label("Words in the reflection").fill("smaoineachadh")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=smaoineachadh**")
    assert page.locator("#results").inner_text() == "1 reflection"
    page.get_by_role("link", name=f"Reflection {world.gaelic}").click()
    assert page.get_by_text("P-001").first.is_visible()

    # Select "Sgìre" with the mouse's equivalent: a DOM range over the text.
    page.evaluate(
        """() => {
          const box = document.getElementById('reflection-text');
          const node = box.firstChild, at = node.textContent.indexOf('Sgìre');
          const range = document.createRange();
          range.setStart(node, at); range.setEnd(node, at + 5);
          const selection = window.getSelection();
          selection.removeAllRanges(); selection.addRange(range);
          box.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
        }"""
    )
    start = GAELIC.index("Sgìre")  # in code points: the 👍 before it counts once
    assert page.get_by_label("From character").input_value() == str(start)
    assert page.get_by_label("To character (not included)").input_value() == str(start + 5)
    page.get_by_label("Code", exact=True).select_option(label="Place")
    page.get_by_role("button", name="Code this passage").click()
    assert page.locator("#codings mark").inner_text() == "Sgìre"

    page.get_by_label("New memo").fill("Place names matter to this team.")
    page.get_by_role("button", name="Save memo").click()
    assert page.get_by_text("Place names matter to this team.").is_visible()

    page.get_by_role("link", name="Export").click()
    page.get_by_label("CSV — one row per reflection, with its context").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    gaelic = next(r for r in rows if int(r["reflection_id"]) == world.gaelic)
    assert gaelic["text"] == GAELIC and gaelic["codes"] == "Place"
    page.close()


def test_a_lead_typing_another_partnerships_reflection_url_gets_404(
    served_to_read: tuple[str, World], browser
) -> None:  # type: ignore[no-untyped-def]
    base, world = served_to_read
    page = browser.new_page()
    _sign_in(page, base, "lead@example.org")
    response = page.goto(f"{base}/review/reflections/{world.reflections[('dundee', 'team')]}")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    own = page.goto(f"{base}/review/reflections/{world.reflections[('fife', 'team')]}")
    assert own is not None and own.status == 200
    page.close()


@pytest.mark.parametrize(
    "email", ["researcher@example.org", "lead@example.org", "admin@example.org"]
)
def test_every_page_fits_a_320px_screen_without_sideways_scrolling(
    served_to_read: tuple[str, World], browser, email: str
) -> None:  # type: ignore[no-untyped-def]
    base, world = served_to_read
    page = browser.new_page(viewport={"width": 320, "height": 640})
    _sign_in(page, base, email)
    one = world.reflections[("fife", "team")] if email.startswith("lead") else world.gaelic
    paths = ["/review/reflections", f"/review/reflections/{one}", "/review/dashboard"]
    paths += ["/review/export"] + (["/review/codes"] if email.startswith("researcher") else [])
    paths += ["/review/outbox"] if email.startswith("admin") else []
    for path in paths:
        page.goto(base + path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 320, f"{path} is {width}px wide on a 320px phone"


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_the_participation_charts_text_is_at_least_12px_at_every_width(
    served_to_read: tuple[str, World], browser, width: int
) -> None:  # type: ignore[no-untyped-def]
    base, _world = served_to_read
    page = browser.new_page(viewport={"width": width, "height": 800})
    _sign_in(page, base, "researcher@example.org")
    page.goto(f"{base}/review/dashboard")
    heights = page.evaluate(
        """() => [...document.querySelectorAll('svg.chart text')].map(t => ({
             size: parseFloat(getComputedStyle(t).fontSize),
             shown: t.getBoundingClientRect().height,
           }))"""
    )
    assert heights, "the dashboard shows no chart"
    assert all(h["size"] >= 12 and h["shown"] >= 12 for h in heights), heights


def test_a_keyboard_user_skips_the_menu_and_codes_a_whole_reflection(
    served: tuple[str, World], browser
) -> None:  # type: ignore[no-untyped-def]
    base, world = served
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    _sign_in(page, base, "researcher@example.org")
    page.goto(f"{base}/review/reflections/{world.gaelic}")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.get_by_label("Code", exact=True).focus()
    page.keyboard.type("Place")
    button = page.get_by_role("button", name="Code the whole reflection")
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#codings").get_by_text("Place").first.is_visible()
    assert "Place: the whole reflection" in page.locator("#codings").inner_text()
