"""The Teams world: the real SDK ``App`` inside carbot's web app, a fake Bot Connector (and token
endpoint, and OpenID signing keys) on loopback, and the conversation core on SQLite."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters import actions
from adapters.teams import TeamsChannel, TeamsConfig
from bot.channels.teams import link_by_email
from bot.core.conversation import Conversation
from bot.services import Services
from bot.web.app import create_app
from tests.fakes.teams_connector import APP_ID, APP_SECRET, ISSUER, TENANT, FakeConnector

ALEX = "a:1alex-personal-chat"
ALEX_USER = "29:1alex"
_ids = itertools.count(1)


@pytest.fixture
def connector() -> Iterator[FakeConnector]:
    fake = FakeConnector().start()
    yield fake
    fake.close()


def config_for(connector: FakeConnector, **overrides: Any) -> TeamsConfig:
    values: dict[str, Any] = {
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
        "tenant_id": TENANT,
        "service_url": connector.service_url,
        "login_url": connector.login_url,
        "openid_url": connector.openid_url,
        "token_issuer": ISSUER,
        "max_upload_bytes": 1024,
    }
    values.update(overrides)
    return TeamsConfig(**values)


def activity(
    connector: FakeConnector,
    *,
    text: str | None = None,
    value: dict[str, Any] | None = None,
    reply_to: str | None = None,
    kind: str = "message",
    conversation: str = ALEX,
    tenant: str = TENANT,
    attachments: list[dict[str, Any]] | None = None,
    activity_id: str | None = None,
    personal: bool = True,
    event_type: str | None = None,
) -> dict[str, Any]:
    """An activity as the Bot Connector posts it for a personal chat."""
    body: dict[str, Any] = {
        "type": kind,
        "id": activity_id or f"f:{next(_ids)}",
        "timestamp": "2027-03-02T10:00:00.000Z",
        "serviceUrl": connector.service_url,
        "channelId": "msteams",
        "from": {"id": ALEX_USER, "name": "Alex", "aadObjectId": "aad-alex"},
        "conversation": {
            "id": conversation,
            "conversationType": "personal" if personal else "groupChat",
            "tenantId": tenant,
            "isGroup": not personal,
        },
        "recipient": {"id": f"28:{APP_ID}", "name": "carbot"},
        "channelData": {"tenant": {"id": tenant}},
    }
    if event_type is not None:
        body["channelData"]["eventType"] = event_type
    if kind == "installationUpdate":
        body["action"] = "add"
    if text is not None:
        body["text"] = text
    if value is not None:
        body["value"] = value
    if reply_to is not None:
        body["replyToId"] = reply_to
    if attachments is not None:
        body["attachments"] = attachments
    return body


@dataclass
class Teams:
    """carbot's web app with the Teams channel started on the core."""

    services: Services
    connector: FakeConnector
    channel: TeamsChannel
    client: httpx.AsyncClient

    async def post(self, body: dict[str, Any], token: str | None = "good") -> httpx.Response:
        headers = {}
        if token == "good":
            token = self.connector.token()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.client.post("/teams/messages", json=body, headers=headers)
        await self.channel.idle()
        return response

    async def say(self, text: str, **extra: Any) -> httpx.Response:
        return await self.post(activity(self.connector, text=text, **extra))

    async def tap(self, data: dict[str, Any], reply_to: str, **inputs: str) -> httpx.Response:
        value = {**data, **inputs}
        return await self.post(activity(self.connector, value=value, reply_to=reply_to))


async def teams_world(
    services: Services, connector: FakeConnector, **overrides: Any
) -> AsyncIterator[Teams]:
    async def link(email: str, conversation: str, tenant: str):  # type: ignore[no-untyped-def]
        return await link_by_email(services, email, conversation, tenant)

    channel = TeamsChannel(config_for(connector, **overrides), email_linker=link)
    await channel.start(Conversation(services).handle)
    app = create_app(services, [channel])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carbot.test") as client:
        yield Teams(services, connector, channel, client)
    await channel.stop()


@pytest.fixture
async def teams(services: Services, connector: FakeConnector) -> AsyncIterator[Teams]:
    async for world in teams_world(services, connector):
        yield world


def card_of(body: dict[str, Any]) -> dict[str, Any]:
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return dict(attachment["content"])


def buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(card_of(body).get("actions") or [])


def tapped(button: dict[str, Any]) -> actions.Action | None:
    """What a tap on a card's button asks for."""
    tap = actions.unpack(button["data"].get("carbot"))
    return tap.action if tap is not None else None


def shown(body: dict[str, Any]) -> str:
    """Everything a person reads in a message: its text, or its card's text blocks."""
    if body.get("text"):
        return str(body["text"])
    return "\n".join(
        str(block.get("text"))
        for block in card_of(body)["body"]
        if block.get("type") == "TextBlock"
    )
