"""Every review page on the demo data, in headless Chromium: nothing scrolls sideways at 320 px,
and axe-core (WCAG 2.2 A and AA rules) finds no critical or serious violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import chromium_path, make_settings, requires_chromium
from tests.support.demo_site import DemoSite, demo_site, signed_in

pytestmark = [requires_chromium, pytest.mark.browser]
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with demo_site(make_settings(tmp_path_factory.mktemp("demo"))) as site:
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


def test_no_review_page_scrolls_sideways_at_320px(demo: DemoSite, browser) -> None:  # type: ignore[no-untyped-def]
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
    demo: DemoSite, browser, width: int
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
