"""The whole web app, with every channel's routes mounted, served by uvicorn on loopback."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.routing import Mount, Route

from adapters.base import InboundMessage, InboundResult
from adapters.slack import SlackChannel
from adapters.teams import TeamsChannel
from adapters.telegram import TelegramChannel
from adapters.telegram.config import WEBHOOK_MOUNT, WEBHOOK_PATH
from bot.channels.webchat import issue_webchat_link, webchat_channel
from bot.core.conversation import Conversation
from bot.services import Services
from bot.web.app import create_app
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_connector import FakeConnector
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.slack.payloads import SIGNING_SECRET
from tests.support.participants import make_person, make_project
from tests.teams.conftest import config_for as teams_config_for
from tests.telegram.conftest import config_for

TELEGRAM_SECRET = "a-long-random-webhook-secret"


async def answer_nothing(message: InboundMessage) -> InboundResult:
    return InboundResult()


# Mounted apps without a route table, and the paths they answer on.
PLAIN_MOUNTS = {
    WEBHOOK_MOUNT: [(WEBHOOK_MOUNT + WEBHOOK_PATH, {"POST"})],
    "/chat/static": [("/chat/static/chat.js", {"GET"})],
}


def walk(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route of the app and of the apps mounted on it, with ``1``
    for each path parameter (``digest.eml`` for an outbox file's name)."""
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                yield from walk(route.routes, prefix + route.path)
            else:
                yield from PLAIN_MOUNTS[prefix + route.path]
        elif isinstance(route, Route):
            path = re.sub(r"\{name\}", "digest.eml", prefix + route.path)
            yield re.sub(r"\{[^}]+\}", "1", path), set(route.methods or ())
        elif hasattr(route, "original_router"):  # FastAPI's included routers
            yield from walk(route.original_router.routes, prefix)


@dataclass
class Site:
    services: Services
    app: FastAPI
    teams: FakeConnector  # the Bot Connector the Teams channel answers, and its token minter

    async def chat_token(self) -> str:
        """A live web chat link's token, for a participant of a small project."""
        now = datetime.now(UTC)
        async with self.services.sessions() as session, session.begin():
            rows = await make_project(session, today=now.date())
            person, _ = await make_person(session, rows.project, name="Morag", now=now)
            return await issue_webchat_link(session, person, now=now)


@pytest.fixture
async def site(services: Services) -> AsyncIterator[Site]:
    """carbot's web app with the web chat, Slack (HTTP mode), Telegram (webhook) and Teams
    mounted."""
    slack_api = await FakeSlack().start()
    teams_connector = FakeConnector().start()
    async with FakeTelegramAPI() as telegram_api:
        channels = [
            webchat_channel(services),
            SlackChannel(
                bot_token="xoxb-carbot-test",
                mode="http",
                signing_secret=SIGNING_SECRET,
                api_base_url=slack_api.base_url,
                post_interval=0,
            ),
            TelegramChannel(
                config_for(
                    telegram_api,
                    mode="webhook",
                    webhook_secret=TELEGRAM_SECRET,
                    webhook_url="https://carbot.example.org/telegram/webhook",
                )
            ),
        ]
        for channel in channels:
            await channel.start(answer_nothing)
        # Teams on the real core, so a test can show what a refused activity did not store
        teams = TeamsChannel(teams_config_for(teams_connector))
        await teams.start(Conversation(services).handle)
        channels.append(teams)
        try:
            yield Site(services, create_app(services, channels), teams_connector)
        finally:
            for channel in channels:
                await channel.stop()
            await slack_api.close()
            teams_connector.close()
