"""Every review page on the demo data, in headless Chromium: nothing scrolls sideways at 320 px,
and axe-core (WCAG 2.2 A and AA rules) finds no critical or serious violation."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from bot.demo.setup import prepare_demo
from bot.engine.digest_jobs import send_due_digests
from bot.services import Services
from bot.web.app import create_app
from storage.models import Attachment, Coding, Reflection
from tests.conftest import chromium_path, make_settings, requires_chromium

pytestmark = [requires_chromium, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Demo:
    def __init__(self, base: str, email: str, password: str, paths: dict[str, str]) -> None:
        self.base, self.email, self.password, self.paths = base, email, password, paths


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    settings = make_settings(tmp_path_factory.mktemp("demo"))

    async def prepare() -> tuple[str, str, dict[str, str]]:
        services = Services.from_settings(settings)
        ready = await prepare_demo(services, study=ROOT / "examples/wws-demo.yaml", real_now=NOW)
        await send_due_digests(services, NOW)
        async with services.sessions() as session:
            photo = await session.scalar(
                select(Reflection.id)
                .join(Attachment, Attachment.reflection_id == Reflection.id)
                .where(Attachment.kind == "photo", Reflection.audience != "private")
                .limit(1)
            )
            coded = await session.scalar(select(Coding.reflection_id).limit(1))
        await services.close()
        eml = await asyncio.to_thread(lambda: sorted(Path(settings.outbox_dir).glob("*.eml")))
        assert ready.review_email and ready.review_password and eml and photo and coded
        paths = {
            "home": "/",
            "reflections": "/review/reflections",
            "one reflection (coded)": f"/review/reflections/{coded}",
            "one reflection (photo)": f"/review/reflections/{photo}",
            "codebook": "/review/codes",
            "participation": "/review/dashboard",
            "export": "/review/export",
            "outbox": "/review/outbox",
            "a digest in the outbox": f"/review/outbox/{eml[0].name}",
        }
        return ready.review_email, ready.review_password, paths

    email, password, paths = asyncio.run(prepare())
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
        yield Demo(f"http://127.0.0.1:{port}", email, password, paths)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def signed_in(browser, demo: Demo, width: int):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(f"{demo.base}/review/sign-in")
    page.get_by_label("Email").fill(demo.email)
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/review/**")
    return page


def test_no_review_page_scrolls_sideways_at_320px(demo: Demo, browser) -> None:  # type: ignore[no-untyped-def]
    page = signed_in(browser, demo, 320)
    wide = {}
    for name, path in [("sign-in", "/review/sign-in"), *demo.paths.items()]:
        page.goto(demo.base + path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 320:
            wide[name] = width
    assert not wide, f"pages wider than a 320px screen: {wide}"
    page.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_axe_finds_no_critical_or_serious_violation_on_any_review_page(  # type: ignore[no-untyped-def]
    demo: Demo, browser, width: int
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    anonymous = browser.new_page(viewport={"width": width, "height": 800})
    anonymous.goto(f"{demo.base}/review/sign-in")
    found = {"sign-in": axe.run(anonymous, options={"runOnly": WCAG}).response["violations"]}
    anonymous.close()
    page = signed_in(browser, demo, width)
    for name, path in demo.paths.items():
        page.goto(demo.base + path)
        found[name] = axe.run(page, options={"runOnly": WCAG}).response["violations"]
    bad = {
        name: [(v["id"], v["impact"], len(v["nodes"])) for v in violations]
        for name, violations in found.items()
        if any(v["impact"] in ("critical", "serious") for v in violations)
    }
    assert not bad, bad
    page.close()
