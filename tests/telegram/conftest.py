"""The Telegram channel under test: the real python-telegram-bot against a fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.base import InboundMessage, InboundResult, OutboundText
from adapters.telegram import TelegramChannel, TelegramConfig
from tests.fakes.telegram_api import FakeTelegramAPI

ANA = 4242  # a person's private chat id (the same as their Telegram user id)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


def config_for(fake: FakeTelegramAPI, **overrides: Any) -> TelegramConfig:
    """Quick settings for tests: short polls and backoffs, no per-chat pause."""
    values: dict[str, Any] = {
        "token": fake.token,
        "api_base_url": fake.base_url,
        "poll_timeout": 1.0,
        "per_chat_interval": 0.0,
        "retry_backoff": 0.01,
        "lock_retry_seconds": 0.05,
    }
    values.update(overrides)
    return TelegramConfig(**values)


@dataclass
class Recorder:
    """A stand-in for the conversation core: remembers each message, answers "Got it"."""

    messages: list[InboundMessage] = field(default_factory=list)
    answer: Callable[[InboundMessage], InboundResult] = lambda m: InboundResult(
        replies=[OutboundText("Got it")]
    )

    async def __call__(self, message: InboundMessage) -> InboundResult:
        self.messages.append(message)
        return self.answer(message)


@asynccontextmanager
async def running(
    fake: FakeTelegramAPI, handler: Any, **overrides: Any
) -> AsyncIterator[TelegramChannel]:
    lock = overrides.pop("lock", None)
    channel = TelegramChannel(config_for(fake, **overrides), poller_lock=lock)
    await channel.start(handler)
    try:
        yield channel
    finally:
        await channel.stop()


async def eventually(check: Callable[[], object], *, within: float = 10.0) -> None:
    """Wait until ``check()`` is true (the poller works in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the Telegram channel")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a loopback port; yields its base URL."""
    import socket

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: server.started or task.done())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
