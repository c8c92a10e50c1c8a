"""Benchmark: 1,000 prompts to 1,000 people through a fake Bot Connector keeping Teams' limits.

The fake runs in a process of its own, as the real service would, and answers 429
(``Retry-After: 1``) to an activity past 50 in any sliding second (Teams'
documented global limit per app per tenant) or past a conversation's 7 in 1 s, 8 in 2 s, 60 in
30 s or 1,800 in an hour. The floor is 1000 / 50 s = 20 s; the target is at most 1.10 × the
floor with no 429 at all.

1. As the Telegram and Slack benchmarks do: every prompt given to the channel at once (at most
   64 in flight), the real SDK sending Adaptive Cards, carbot's pacer lining them up.
2. Five messages to ONE person: the fake's per-conversation windows (7 in 1 s, 8 in 2 s) hold
   with no 429.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from adapters.base import Choice, InboundMessage, InboundResult, OutboundPrompt, Recipient
from adapters.teams import GLOBAL_RATE, TeamsChannel, TeamsConfig
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


async def main() -> list[str]:
    return [
        "fake Bot Connector enforcing 50/s per app and 7/1 s, 8/2 s, 60/30 s per conversation;",
        "target: at most 1.10 × floor with no 429",
        await many_people(),
        await one_person(),
    ]
