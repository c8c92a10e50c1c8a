"""Every response of the web app carries the security headers: a test that walks the routes."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

import httpx

from bot.services import Services
from bot.web.app import create_app
from tests.conftest import make_settings
from tests.review.conftest import build_world
from tests.review.helpers import csrf, sign_in
from tests.web.conftest import Site, walk


def problems(response: httpx.Response, https: bool = False) -> list[str]:
    """What is missing from one response's headers."""
    headers = response.headers
    found = []
    if "frame-ancestors 'none'" not in headers.get("content-security-policy", ""):
        found.append("frame-ancestors")
    if headers.get("x-content-type-options") != "nosniff":
        found.append("nosniff")
    if headers.get("x-frame-options") != "DENY":
        found.append("X-Frame-Options")
    if headers.get("referrer-policy") not in ("same-origin", "no-referrer"):
        found.append("Referrer-Policy")
    if ("strict-transport-security" in headers) != https:
        found.append("HSTS" if https else "HSTS over http")
    return [f"{response.request.method} {response.request.url.path} {response.status_code}: {p}"
            for p in found]  # fmt: skip


def _digest(folder: Path) -> None:
    message = EmailMessage()
    message["Subject"], message["To"] = "Weekly digest", "lead@example.org"
    message.set_content("Plain part")
    message.add_alternative("<p style='color:red'>HTML part</p>", subtype="html")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "digest.eml").write_bytes(message.as_bytes())


async def test_every_route_answers_with_the_security_headers(site: Site) -> None:
    settings = site.services.settings
    world = await build_world(site.services, Path(settings.data_dir))
    _digest(Path(settings.outbox_dir))
    routes = list(walk(site.app.routes))
    gets = [path for path, methods in routes if "GET" in methods]
    gets += [
        f"/chat/{await site.chat_token()}",
        f"/review/reflections/{world.gaelic}",
        f"/review/evidence/{world.photo}",
    ]
    posts = [path for path, methods in routes if "POST" in methods]
    transport = httpx.ASGITransport(app=site.app)
    found: list[str] = []
    statuses: set[int] = set()
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as stranger,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as admin,
    ):
        assert (await sign_in(admin, "admin@example.org")).status_code == 303
        for http in (stranger, admin):
            for path in gets:
                response = await http.get(path)
                statuses.add(response.status_code)
                found += problems(response)
            for path in posts:
                response = await http.post(path, data={"text": "hello"})
                statuses.add(response.status_code)
                found += problems(response)
        download = await admin.post(
            "/review/export", data={"csrf": await csrf(admin, "/review/export"), "format": "csv"}
        )
        assert download.status_code == 200 and "text/csv" in download.headers["content-type"]
        found += problems(download)
    assert found == []
    assert {"/review/outbox/digest.eml/raw", "/chat/static/chat.js", "/chat/1/events"} <= set(gets)
    assert {"/slack/events", "/telegram/webhook", "/chat/1/send", "/review/export"} <= set(posts)
    assert "/teams/messages" in posts
    assert {200, 303, 403, 404} <= statuses


async def test_pages_keep_the_policy_their_own_scripts_need(site: Site) -> None:
    world = await build_world(site.services, Path(site.services.settings.data_dir))
    _digest(Path(site.services.settings.outbox_dir))
    transport = httpx.ASGITransport(app=site.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        await sign_in(http, "admin@example.org")
        page = await http.get(f"/review/reflections/{world.gaelic}")
        outbox = await http.get("/review/outbox/digest.eml")
        chat = await http.get(f"/chat/{await site.chat_token()}")
    nonce = re.search(r'<script nonce="([^"]+)"', page.text)
    assert (
        nonce and f"script-src 'nonce-{nonce.group(1)}'" in page.headers["content-security-policy"]
    )
    assert outbox.status_code == 200
    assert "script-src 'none'" in outbox.headers["content-security-policy"]
    assert chat.headers["referrer-policy"] == "no-referrer"  # the link token stays private
    assert "script-src 'self'" in chat.headers["content-security-policy"]


async def test_hsts_is_sent_only_behind_an_https_public_url(tmp_path: Path) -> None:
    for url, https in (("https://carbot.example.org", True), ("http://127.0.0.1:8000", False)):
        services = Services.from_settings(make_settings(tmp_path, public_url=url))
        try:
            transport = httpx.ASGITransport(app=create_app(services))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                for path in ("/healthz", "/review/sign-in", "/review/reflections"):
                    assert problems(await http.get(path), https=https) == []
        finally:
            await services.close()


async def test_even_an_unexpected_error_page_carries_the_headers(services: Services) -> None:
    app = create_app(services)

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/crash")
    assert response.status_code == 500
    assert problems(response) == []
