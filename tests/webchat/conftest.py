"""A real server for the web chat's browser tests: uvicorn on a free port, the real channel."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn

from bot.channels.webchat import webchat_channel
from bot.core.conversation import Conversation
from bot.services import Services
from bot.web.app import create_app

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def server(services: Services) -> AsyncIterator[tuple[Services, object, str]]:
    port = _free_port()
    services.settings.public_url = f"http://127.0.0.1:{port}"
    channel = webchat_channel(services)
    await channel.start(Conversation(services).handle)
    config = uvicorn.Config(
        create_app(services, [channel]),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    yield services, channel, f"http://127.0.0.1:{port}"
    await channel.stop()
    server.should_exit = True
    await asyncio.wait_for(task, 10)
