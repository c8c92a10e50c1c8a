"""Every route refuses an oversized body with 413 before reading it, and other requests go on."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from bot.web.limits import DEFAULT_LIMIT
from tests.slack.payloads import sign
from tests.telegram.conftest import serving
from tests.web.conftest import TELEGRAM_SECRET, Site, walk

HUNDRED_MB = 100 * 1024 * 1024
CHUNK = b"x" * (64 * 1024)


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


async def hundred_megabytes() -> AsyncIterator[bytes]:
    for _ in range(HUNDRED_MB // len(CHUNK)):
        yield CHUNK


async def valid_requests(http: httpx.AsyncClient) -> list[int]:
    """What a real visitor, Slack and Telegram send meanwhile; each must be answered 200."""
    body = json.dumps({"type": "url_verification", "challenge": "c-1", "token": "t"}).encode()
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "Ana"},
            "text": "hello",
        },
    }
    answers = await asyncio.gather(
        http.get("/healthz"),
        http.get("/review/sign-in"),
        http.post(
            "/slack/events",
            content=body,
            headers={**sign(body), "Content-Type": "application/json"},
        ),
        http.post(
            "/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        ),
    )
    assert "c-1" in answers[2].text
    return [answer.status_code for answer in answers]


async def test_a_hundred_megabyte_body_to_any_route_is_refused_while_others_are_answered(
    site: Site,
) -> None:
    chat = f"/chat/{await site.chat_token()}/send"
    paths = [path for path, methods in walk(site.app.routes) if "POST" in methods]
    assert {"/slack/events", "/telegram/webhook", "/chat/1/send", "/review/sign-in"} <= set(paths)
    assert "/teams/messages" in paths
    paths = [chat if path == "/chat/1/send" else path for path in paths]
    async with (
        serving(site.app) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as http,
        httpx.AsyncClient(base_url=base, timeout=30) as attacker,
    ):
        assert await valid_requests(http) == [200] * 4  # warm up before measuring
        before = rss_kib()
        for path in paths:
            for declared in (True, False):  # with Content-Length, and chunked
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    # as if the secret had leaked: the route reads the body
                    "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
                    # a token naming the Bot Framework's published key (signed with another):
                    # the Teams route reads the body before the SDK checks the signature
                    "Authorization": f"Bearer {site.teams.token(forged=True)}",
                }
                if declared:
                    headers["Content-Length"] = str(HUNDRED_MB)
                started = time.monotonic()
                refused, meanwhile = await asyncio.gather(
                    attacker.post(path, content=hundred_megabytes(), headers=headers),
                    valid_requests(http),
                )
                if path == chat and not declared:
                    # the web chat refuses a body without a length before reading any of it
                    assert refused.status_code == 411
                elif path == "/review/codes/import" and not declared:
                    # its limit is 5 MB, but the form parser refuses a 1 MB field that is not a
                    # file first (the junk body is one such field): 400, also without keeping it
                    assert refused.status_code == 400, (path, refused.text)
                else:
                    assert refused.status_code == 413, (path, declared, refused.text)
                    assert "too big" in refused.json()["error"]
                assert meanwhile == [200] * 4, (path, declared)
                assert time.monotonic() - started < 10
        grown = rss_kib() - before
    assert grown < 20 * 1024, f"RSS grew by {grown} KiB"


async def test_a_body_just_under_the_limit_still_reaches_the_route(site: Site) -> None:
    async with serving(site.app) as base, httpx.AsyncClient(base_url=base) as http:
        almost = await http.post("/slack/events", content=b"x" * (DEFAULT_LIMIT - 1))
        over = await http.post("/slack/events", content=b"x" * (DEFAULT_LIMIT + 1))
    assert almost.status_code != 413  # Bolt itself refuses the unsigned junk
    assert over.status_code == 413


async def _status_after(base: str, head: bytes, body: bytes) -> bytes:
    """Send a request's head and only ``body`` of its body, then read the status line."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head + body)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()


async def test_a_declared_length_over_the_limit_is_refused_before_any_body_is_sent(
    site: Site,
) -> None:
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: carbot\r\n"
        b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
    )
    async with serving(site.app) as base:
        assert (await _status_after(base, head, b"")).startswith(b"HTTP/1.1 413")


async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(site: Site) -> None:
    head = (
        b"POST /review/sign-in HTTP/1.1\r\nHost: carbot\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
    enough = chunk * (DEFAULT_LIMIT // len(CHUNK) + 1)  # just over the limit, then nothing
    async with serving(site.app) as base:
        assert (await _status_after(base, head, enough)).startswith(b"HTTP/1.1 413")
