"""Benchmark: 1,000 prompts to 1,000 chats through a fake Bot API that enforces 30 messages/s.

The fake answers 429 (with ``retry_after``) to any message past 30 in a sliding second, as
Telegram does. The floor is 1000 / 30 s; the target for carbot's channel is at most 1.10 times
the floor with no 429 at all. Side by side: the same plain loop on a PTB ``Application`` using
PTB's own ``AIORateLimiter`` (retrying up to five times after a 429), against the same fake.
carbot's channel is given the prompts all at once (fanned out, at most 64 in flight): its limiter
lines them up. PTB's limiter is run twice, as a plain loop (one send at a time) and fanned out the
same way. The fake runs in a process of its own, as
a remote server would; everything stays on loopback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import AIORateLimiter, ApplicationBuilder

from adapters.base import Choice, InboundMessage, InboundResult, OutboundPrompt, Recipient
from adapters.telegram import TelegramChannel, TelegramConfig
from adapters.telegram.messages import prompt_text
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI, fake_stats

PROMPTS = 1000
IN_FLIGHT = 64
PER_SECOND = 30
FLOOR = PROMPTS / PER_SECOND
SCALE = tuple(Choice(str(n), str(n)) for n in range(1, 6))


def _prompt(n: int) -> OutboundPrompt:
    return OutboundPrompt(n, "scale", "How ready does the team feel to test the change?", SCALE)


async def _ignore(message: InboundMessage) -> InboundResult:
    return InboundResult()


async def fan_out(send: Callable[[int], Awaitable[object]]) -> None:
    """Every prompt at once, at most IN_FLIGHT of them waiting or sending."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(n: int) -> None:
        async with gate:
            await send(n)

    await asyncio.gather(*(one(n) for n in range(PROMPTS)))


async def plain_loop(send: Callable[[int], Awaitable[object]]) -> None:
    for n in range(PROMPTS):
        await send(n)


def _fake() -> Any:
    return FakeTelegramAPI.in_subprocess(per_second=PER_SECOND, per_chat_interval=1.0)


async def _outcome(base_url: str, elapsed: float) -> tuple[float, int, int]:
    stats = await fake_stats(base_url)
    return elapsed, stats["too_many_requests"], stats["delivered"]


async def carbot_channel() -> tuple[float, int, int]:
    with _fake() as base_url:
        channel = TelegramChannel(TelegramConfig(token=TOKEN, api_base_url=base_url))
        await channel.start(_ignore)
        try:
            started = time.perf_counter()
            await fan_out(lambda n: channel.send_prompt(Recipient(n, str(100_000 + n)), _prompt(n)))
            elapsed = time.perf_counter() - started
        finally:
            await channel.stop()
        return await _outcome(base_url, elapsed)


async def ptb_aio_rate_limiter(
    how: Callable[[Callable[[int], Awaitable[object]]], Awaitable[None]],
) -> tuple[float, int, int]:
    with _fake() as base_url:
        application = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(base_url)
            .rate_limiter(AIORateLimiter(max_retries=5))
            .updater(None)
            .build()
        )
        await application.initialize()

        async def send(n: int) -> object:
            prompt = _prompt(n)
            buttons = [
                InlineKeyboardButton(c.label, callback_data=f"{n}|{c.value}")
                for c in prompt.choices
            ]
            return await application.bot.send_message(
                chat_id=100_000 + n,
                text=prompt_text(prompt),
                reply_markup=InlineKeyboardMarkup([buttons]),
            )

        try:
            started = time.perf_counter()
            await how(send)
            elapsed = time.perf_counter() - started
        finally:
            await application.shutdown()
        return await _outcome(base_url, elapsed)


async def main() -> list[str]:
    lines = [f"{PROMPTS} prompts to {PROMPTS} chats, fake Bot API enforcing {PER_SECOND} msg/s;"]
    lines.append(f"floor {FLOOR:.1f} s; target: at most 1.10 × floor with no 429")
    runs: list[tuple[str, Callable[[], Awaitable[tuple[float, int, int]]]]] = [
        ("carbot channel, fanned out ", carbot_channel),
        ("PTB AIORateLimiter, loop   ", lambda: ptb_aio_rate_limiter(plain_loop)),
        ("PTB AIORateLimiter, fan-out", lambda: ptb_aio_rate_limiter(fan_out)),
    ]
    for name, run in runs:
        elapsed, rejected, delivered = await run()
        lines.append(
            f"{name}: {elapsed:6.1f} s = {elapsed / FLOOR:.3f} × floor, "
            f"{rejected} × 429, {delivered} delivered"
        )
    return lines
