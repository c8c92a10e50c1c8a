"""Benchmark: 1,000 prompts to 1,000 people through a fake Bot Connector keeping Teams' limits.

The fake runs in a process of its own, as the real service would, and answers 429
(``Retry-After: 1``) to an activity past 50 in any sliding second (Teams'
documented global limit per app per tenant) or past a conversation's 7 in 1 s, 8 in 2 s, 60 in
30 s or 1,800 in an hour. The floor is 1000 / 50 s = 20 s; the target is at most 1.10 × the
floor with no 429 at all.

1. Through what ``carbot run`` runs, as the Telegram fan-out benchmark does: 1,000 people with
   a Teams chat each, their prompts planned for 10:00, then :class:`bot.engine.jobs.Jobs` (its
   engine tick and its sending loop) with the Teams channel built by carbot's wiring
   (``bot.channels.teams``) from its settings, on a real clock started a few seconds before
   10:00; measured from 10:00 until the last prompt is recorded as sent.
2. Every prompt given to the channel at once (at most 64 in flight), the real SDK sending
   Adaptive Cards, carbot's pacer lining them up: the channel alone.
3. Twelve messages to ONE person: the fake's per-conversation windows (7 in 1 s, 8 in 2 s) hold
   with no 429.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx

from adapters.base import Choice, InboundMessage, InboundResult, OutboundPrompt, Recipient
from adapters.teams import GLOBAL_RATE, TeamsChannel, TeamsConfig
from bot.channels.teams import teams_channel
from bot.clock import ScaledClock
from bot.engine.jobs import Jobs
from bot.engine.planner import plan_once
from bot.services import Services
from tests.bench.bench_fanout import DUE, LEAD, count_sent, populate
from tests.conftest import make_settings
from tests.fakes.teams_connector import (
    APP_ID,
    APP_SECRET,
    ISSUER,
    TENANT,
    connector_in_subprocess,
)

PROMPTS = 1000
IN_FLIGHT = 64
FLOOR = PROMPTS / GLOBAL_RATE
BURST = 12
SCALE = tuple(Choice(str(n), str(n)) for n in range(1, 6))


def _prompt(n: int) -> OutboundPrompt:
    return OutboundPrompt(
        n, "scale", "How ready does the team feel to test the change?", SCALE, "Family hub"
    )


async def _ignore(message: InboundMessage) -> InboundResult:
    return InboundResult()


async def fan_out(send: Callable[[int], Awaitable[object]], count: int) -> None:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(n: int) -> None:
        async with gate:
            await send(n)

    await asyncio.gather(*(one(n) for n in range(count)))


async def _channel(base: str) -> TeamsChannel:
    config = TeamsConfig(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        tenant_id=TENANT,
        service_url=base + "/connector/",
        login_url=base + "/login",
        openid_url=base + "/openid/v1/.well-known/openidconfiguration",
        token_issuer=ISSUER,
    )
    channel = TeamsChannel(config)
    await channel.start(_ignore)
    return channel


async def _stats(base: str) -> dict[str, int]:
    async with httpx.AsyncClient() as client:
        return dict((await client.get(base + "/_fake/stats")).json())


async def _run(count: int, conversation: Callable[[int], str]) -> tuple[float, dict[str, int]]:
    with connector_in_subprocess() as base:
        channel = await _channel(base)
        try:
            started = time.perf_counter()
            await fan_out(
                lambda n: channel.send_prompt(Recipient(n, conversation(n), TENANT), _prompt(n)),
                count,
            )
            elapsed = time.perf_counter() - started
        finally:
            await channel.stop()
        return elapsed, await _stats(base)


async def many_people() -> str:
    elapsed, stats = await _run(PROMPTS, lambda n: f"a:1person-{n}")
    return (
        f"{PROMPTS} prompts to {PROMPTS} people: {elapsed:.1f} s = {elapsed / FLOOR:.3f} × floor "
        f"({FLOOR:.0f} s at {GLOBAL_RATE:.0f}/s), {stats['too_many']} × 429, "
        f"{stats['delivered']} delivered"
    )


async def one_person() -> str:
    elapsed, stats = await _run(BURST, lambda _n: "a:1one-person")
    return (
        f"{BURST} messages to one person: {elapsed:.1f} s (7 in 1 s, then 8 in 2 s: "
        f"at least 2 s), {stats['too_many']} × 429"
    )


async def through_carbot_run() -> str:
    with tempfile.TemporaryDirectory() as folder, connector_in_subprocess() as base:
        settings = make_settings(
            Path(folder),
            teams_app_id=APP_ID,
            teams_app_secret=APP_SECRET,
            teams_tenant_id=TENANT,
            teams_service_url=base + "/connector/",
            teams_login_url=base + "/login",
            teams_openid_url=base + "/openid/v1/.well-known/openidconfiguration",
            teams_token_issuer=ISSUER,
            dispatch_lease_seconds=120,
        )
        services = Services.from_settings(settings)
        try:
            await populate(services, PROMPTS, channel="teams", workspace=TENANT)
            planned = await plan_once(services, DUE - timedelta(minutes=5))
            channel = teams_channel(services)
            assert channel is not None
            await channel.start(_ignore)
            due_wall = time.time() + LEAD
            jobs = Jobs(
                services.with_clock(ScaledClock(start=DUE - timedelta(seconds=LEAD))),
                {"teams": channel},
                worker="w0",
            )
            jobs.start()
            deadline = time.monotonic() + LEAD + 2 * FLOOR + 120
            sent = 0
            try:
                while time.monotonic() < deadline and sent < planned:
                    await asyncio.sleep(0.2)
                    sent = await count_sent(services)
                seconds = time.time() - due_wall
            finally:
                await jobs.stop()
                await channel.stop()
        finally:
            await services.close()
        stats = await _stats(base)
    return (
        f"through carbot run's jobs: {planned} prompts due at 10:00, last recorded sent "
        f"{seconds:.1f} s after = {seconds / FLOOR:.3f} × floor, {stats['too_many']} × 429, "
        f"{stats['delivered']} delivered, {planned - sent} not sent"
        f"{' (TIMED OUT)' if sent < planned else ''}"
    )


async def main() -> list[str]:
    return [
        "fake Bot Connector enforcing 50/s per app and 7/1 s, 8/2 s, 60/30 s per conversation;",
        "target: at most 1.10 × floor with no 429",
        await through_carbot_run(),
        await many_people(),
        await one_person(),
    ]
