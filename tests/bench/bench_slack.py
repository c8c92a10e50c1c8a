"""Benchmark: the Slack channel on loopback — signed events in, prompts out, pacing.

1. 500 signed DM events posted to ``/slack/events`` on carbot's web app (real Bolt, signature
   checked, ``httpx.ASGITransport``), handed to a core stand-in that answers nothing: events per
   second and the time to acknowledge each (p50, p95, max — Slack allows 3 s).
2. 300 prompts to 300 people through the fake Web API (``conversations.open`` once each, then
   ``chat.postMessage`` with Block Kit): prompts per second.
3. Five messages to ONE person with the real one-per-second pacing: the smallest gap between
   two ``chat.postMessage`` calls as the fake saw them (target: at least 1.0 s).
"""

from __future__ import annotations

import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from adapters.base import Choice, InboundMessage, InboundResult, OutboundPrompt, Recipient
from adapters.slack import SlackChannel
from bot.services import Services
from bot.settings import Settings
from bot.web.app import create_app
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.slack.payloads import SIGNING_SECRET, dm_event, event_payload, sign

EVENTS = 500
PROMPTS = 300
PACED = 5
SCALE = tuple(Choice(str(n), str(n)) for n in range(1, 6))


async def _ignore(message: InboundMessage) -> InboundResult:
    return InboundResult()


def _channel(fake: FakeSlack, post_interval: float = 0.0) -> SlackChannel:
    return SlackChannel(
        bot_token="xoxb-bench",
        mode="http",
        signing_secret=SIGNING_SECRET,
        api_base_url=fake.base_url,
        post_interval=post_interval,
    )


async def events_in(fake: FakeSlack, services: Services) -> list[str]:
    channel = _channel(fake)
    await channel.start(_ignore)
    app = create_app(services, [channel])
    latencies: list[float] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carbot.test") as client:
        started = time.perf_counter()
        for n in range(EVENTS):
            body = json.dumps(event_payload(dm_event(f"answer {n}"), f"EvBench{n}")).encode()
            headers = {"Content-Type": "application/json", **sign(body)}
            sent = time.perf_counter()
            response = await client.post("/slack/events", content=body, headers=headers)
            latencies.append(time.perf_counter() - sent)
            assert response.status_code == 200
        elapsed = time.perf_counter() - started
    await channel.stop()
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95)]
    return [
        f"{EVENTS} signed DM events: {EVENTS / elapsed:,.0f}/s; ack p50 "
        f"{statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms (Slack allows 3000 ms)"
    ]


async def prompts_out(fake: FakeSlack, _services: Services) -> list[str]:
    channel = _channel(fake)
    started = time.perf_counter()
    for n in range(PROMPTS):
        prompt = OutboundPrompt(n, "scale", "How ready does the team feel to test it?", SCALE)
        await channel.send_prompt(Recipient(n, f"U{n:06d}", TEAM), prompt)
    elapsed = time.perf_counter() - started
    await channel.stop()
    posts = len(fake.calls_to("chat.postMessage"))
    return [f"{PROMPTS} prompts to {PROMPTS} people: {PROMPTS / elapsed:,.0f}/s ({posts} posted)"]


async def paced(fake: FakeSlack, _services: Services) -> list[str]:
    channel = _channel(fake, post_interval=1.0)
    seen: list[float] = []
    original = fake._m_chat_postMessage

    def timed(params: dict) -> dict:  # type: ignore[type-arg]
        seen.append(time.monotonic())
        return original(params)

    fake._m_chat_postMessage = timed  # type: ignore[method-assign]
    for n in range(PACED):
        prompt = OutboundPrompt(n, "text", f"Question {n}")
        await channel.send_prompt(Recipient(1, "U0PACED", TEAM), prompt)
    await channel.stop()
    gaps = [b - a for a, b in itertools.pairwise(seen)]
    return [f"{PACED} messages to one person: smallest gap {min(gaps):.3f} s (target ≥ 1.0 s)"]


async def main() -> list[str]:
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}",
            data_dir=Path(tmp) / "data",
            secret_key="bench",
        )
        services = Services.from_settings(settings)
        for run in (events_in, prompts_out, paced):
            fake = await FakeSlack().start()
            try:
                lines += await run(fake, services)
            finally:
                await fake.close()
        await services.close()
    return lines
