"""`make screenshots`: every page of the demo as people see it, at 390 px and 1280 px, into
var/shots/ — the web chat with an open question, the review workspace, and the digests.

Runs the demo on SQLite in a temporary folder, serves it on loopback and drives Debian's
Chromium; nothing leaves the machine.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from tests.conftest import chromium_path, make_settings
from tests.support.demo_site import demo_site, signed_in

WIDTHS = (390, 1280)
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _file_name(name: str, width: int) -> str:
    return f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}-{width}.png"


def main(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with (
        tempfile.TemporaryDirectory(prefix="carbot-shots-") as work,
        demo_site(make_settings(Path(work))) as site,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            for width in WIDTHS:
                chat = browser.new_page(viewport={"width": width, "height": 800})
                chat.goto(site.base + site.chat)
                chat.wait_for_load_state("networkidle")
                written.append(out / _file_name("web chat", width))
                chat.screenshot(path=written[-1])
                chat.close()
                anonymous = browser.new_page(viewport={"width": width, "height": 800})
                anonymous.goto(f"{site.base}/review/sign-in")
                written.append(out / _file_name("sign-in", width))
                anonymous.screenshot(path=written[-1], full_page=True)
                anonymous.close()
                page = signed_in(browser, site, width)
                for name, path in site.paths.items():
                    page.goto(site.base + path)
                    written.append(out / _file_name(name, width))
                    page.screenshot(path=written[-1], full_page=True)
                page.close()
        finally:
            browser.close()
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("var/shots")
    for path in main(target):
        print(path)
