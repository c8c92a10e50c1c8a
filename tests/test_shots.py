"""`make screenshots` (tests/shots.py) is not run by the suite, as it takes a while: here it
imports, and a run of it with a stand-in browser (which takes no screenshot) visits every kind of
page the demo serves, at both widths."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import tests.shots as shots
from bot.services import Services
from bot.web.app import create_app
from tests.conftest import make_settings

# not a page of its own: redirects to another, or the same path with a slash at the end
NOT_PAGES = {"/review", "/review/", "/review/outbox/"}
# the same page as another, reached another way (a lead's view of one reflection, by its handle)
SAME_AS_ANOTHER = {"/review/anonymous/{handle}": "/review/reflections/{reflection_id}"}


class _Locator:
    def fill(self, value: str) -> None: ...

    def click(self) -> None: ...


class _Page:
    def __init__(self, seen: list[tuple[int, str]], width: int) -> None:
        self.seen, self.width = seen, width

    def goto(self, url: str) -> None:
        self.seen.append((self.width, urlsplit(url).path))

    def screenshot(self, path: Path, full_page: bool = False) -> None: ...

    def wait_for_load_state(self, state: str) -> None: ...

    def wait_for_url(self, pattern: str) -> None: ...

    def get_by_label(self, label: str) -> _Locator:
        return _Locator()

    def get_by_role(self, role: str, name: str) -> _Locator:
        return _Locator()

    def close(self) -> None: ...


class _Browser:
    def __init__(self, seen: list[tuple[int, str]]) -> None:
        self.seen = seen

    def new_page(self, viewport: dict[str, int]) -> _Page:
        return _Page(self.seen, viewport["width"])

    def close(self) -> None: ...


class _Playwright:
    """Stands in for ``sync_playwright()``: records the pages visited, takes no screenshot."""

    def __init__(self, seen: list[tuple[int, str]]) -> None:
        self.chromium = self
        self.seen = seen

    def __enter__(self) -> _Playwright:
        return self

    def __exit__(self, *exc: object) -> None: ...

    def launch(self, **options: Any) -> _Browser:
        return _Browser(self.seen)


def _html_pages(tmp_path: Path) -> set[str]:
    """Every path template of a GET route of the web app that answers with an HTML page."""
    from fastapi.responses import HTMLResponse

    app = create_app(Services.from_settings(make_settings(tmp_path)))

    def walk(routes: list[Any]) -> set[str]:
        found: set[str] = set()
        for route in routes:
            if hasattr(route, "original_router"):  # an included router
                found |= walk(route.original_router.routes)
            elif getattr(route, "response_class", None) is HTMLResponse and "GET" in (
                getattr(route, "methods", None) or ()
            ):
                found.add(route.path)
        return found

    return walk(app.routes)


def _matches(template: str, path: str) -> bool:
    pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
    return re.fullmatch(pattern, path) is not None


def test_the_screenshot_script_imports_and_shoots_at_a_phone_and_a_desktop_width() -> None:
    assert callable(shots.main)
    assert shots.WIDTHS == (390, 1280)


def test_the_screenshot_script_visits_every_kind_of_page_at_both_widths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import playwright.sync_api

    seen: list[tuple[int, str]] = []
    monkeypatch.setattr(playwright.sync_api, "sync_playwright", lambda: _Playwright(seen))
    written = shots.main(tmp_path / "shots")
    assert len(written) == len(set(written)), "each shot has a file name of its own"
    pages = _html_pages(tmp_path / "app") - NOT_PAGES - set(SAME_AS_ANOTHER)
    for width in shots.WIDTHS:
        visited = {path for at, path in seen if at == width}
        assert any(re.fullmatch(r"/chat/[^/]+", path) for path in visited), "the web chat page"
        missing = sorted(t for t in pages if not any(_matches(t, p) for p in visited))
        assert not missing, f"pages never shot at {width} px: {missing}"
