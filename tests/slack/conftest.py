"""Fixtures for the Slack channel: a fake Slack on loopback, and the real Bolt app in front of it.

``slack_http`` is a :class:`SlackChannel` in HTTP mode, mounted on carbot's real web app and
reached through ``httpx.ASGITransport`` with requests signed like Slack signs them. Every test
that uses ``fake_slack`` also checks, at the end, that each Web API method the adapter called is
allowed by a scope in the app manifest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.base import InboundHandler, InboundMessage, InboundResult
from adapters.slack import SlackChannel
from adapters.slack.scopes import missing_scopes
from bot.services import Services
from bot.web.app import create_app
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.slack.payloads import SIGNING_SECRET, USER, SlackRequests
from tests.support.participants import ProjectRows, make_participant

BOT_TOKEN = "xoxb-carbot-test"
APP_TOKEN = "xapp-carbot-test"

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)  # a Tuesday, in the "Exploring evidence" phase


async def make_alex(session: Any) -> tuple[ProjectRows, Any, Any]:
    """Alex: a consented participant with a project, linked to the Slack user ``USER``."""
    return await make_participant(
        session, name="Alex", channel="slack", external_id=USER, workspace=TEAM, now=NOW
    )


@dataclass
class RecordingHandler:
    """Stands in for the conversation core: records messages, dedupes event ids, and answers
    with ``reply`` (a function of the message) or nothing."""

    messages: list[InboundMessage] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    reply: object = None

    async def __call__(self, message: InboundMessage) -> InboundResult:
        if message.event_id in self.seen:
            return InboundResult(duplicate=True)
        self.seen.add(message.event_id)
        self.messages.append(message)
        if callable(self.reply):
            result = self.reply(message)
            assert isinstance(result, InboundResult)
            return result
        return InboundResult()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    try:
        yield fake
    finally:
        await fake.close()
    for call in fake.calls:
        if call.method == "response_url":
            continue
        missing = missing_scopes(call.method)
        assert missing is not None, f"{call.method} is not in the method→scope table"
        assert not missing, f"{call.method} needs {sorted(missing)}, not in the manifest"


@pytest.fixture
def recorder() -> RecordingHandler:
    return RecordingHandler()


def http_channel(fake: FakeSlack, **options: object) -> SlackChannel:
    options.setdefault("post_interval", 0)
    return SlackChannel(
        bot_token=BOT_TOKEN,
        mode="http",
        signing_secret=SIGNING_SECRET,
        api_base_url=fake.base_url,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def make_slack(
    fake_slack: FakeSlack, recorder: RecordingHandler, services: Services
) -> AsyncIterator[Callable[..., Awaitable[SlackRequests]]]:
    """Makes a started HTTP-mode channel on carbot's web app; stops them all afterwards."""
    made: list[tuple[SlackChannel, httpx.AsyncClient]] = []

    async def make(handler: InboundHandler | None = None, **options: object) -> SlackRequests:
        channel = http_channel(fake_slack, **options)
        await channel.start(handler or recorder)
        app = create_app(services, [channel])
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url="http://carbot.test")
        made.append((channel, client))
        return SlackRequests(client, fake_slack, channel)

    yield make
    for channel, client in made:
        await client.aclose()
        await channel.stop()


@pytest.fixture
async def slack(make_slack: Callable[..., Awaitable[SlackRequests]]) -> SlackRequests:
    """Signed requests to the Slack routes of carbot's web app (files limited to 1000 bytes)."""
    return await make_slack(max_upload_bytes=1000)


@pytest.fixture
def slack_http(slack: SlackRequests) -> SlackChannel:
    return slack.channel


MakeSlack = Callable[..., Awaitable[SlackRequests]]
