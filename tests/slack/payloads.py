"""Slack payloads as Slack sends them, and signed requests to carbot's Slack routes."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from adapters.slack import SlackChannel
from tests.fakes.slack_api import TEAM, FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
USER = "U0ALEX"
DM = "D0ALEX"
_ids = itertools.count(1)


def sign(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack sends: v0 HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def event_payload(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "ACARBOT",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": "UCARBOT", "is_bot": True}],
    }


def dm_event(
    text: str | None, *, user: str = USER, ts: str | None = None, **extra: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message",
        "channel": DM,
        "channel_type": "im",
        "user": user,
        "ts": ts or f"{1800000000 + next(_ids)}.000200",
        "team": TEAM,
    }
    if text is not None:
        event["text"] = text
    event.update(extra)
    return event


def block_actions_payload(
    action: dict[str, Any],
    *,
    user: str = USER,
    message: dict[str, Any] | None = None,
    container: dict[str, Any] | None = None,
    response_url: str | None = None,
) -> dict[str, Any]:
    action = {"action_ts": f"{time.time():.6f}", "block_id": "b", **action}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "team_id": TEAM},
        "team": {"id": TEAM, "domain": "carbot-test"},
        "api_app_id": "ACARBOT",
        "trigger_id": f"{next(_ids)}.trigger",
        "container": container or {"type": "view", "view_id": "VHOME"},
        "actions": [action],
    }
    if message is not None:
        payload["message"] = message
        payload["channel"] = {"id": container["channel_id"] if container else DM}
    if response_url:
        payload["response_url"] = response_url
    return payload


def prompt_tap(
    fake: FakeSlack, ts: str, button: dict[str, Any], user: str = USER
) -> dict[str, Any]:
    """A tap on ``button`` of the message ``ts`` the fake recorded in the DM."""
    message = fake.messages[(DM, ts)]
    return block_actions_payload(
        {"type": "button", **{k: button[k] for k in ("action_id", "value", "text")}},
        user=user,
        message={"type": "message", "ts": ts, **message},
        container={"type": "message", "message_ts": ts, "channel_id": DM, "is_ephemeral": False},
    )


def view_submission_payload(view: dict[str, Any], text: str, *, user: str = USER) -> dict[str, Any]:
    submitted = {
        "type": "modal",
        **view,
        "id": view.get("id") or f"V{next(_ids):06d}",
        "state": {"values": {"answer": {"text": {"type": "plain_text_input", "value": text}}}},
    }
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "carbot-test"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "ACARBOT",
        "trigger_id": f"{next(_ids)}.trigger",
        "view": submitted,
    }


def command_payload(text: str, *, user: str = USER, response_url: str = "") -> dict[str, str]:
    return {
        "token": "legacy",
        "team_id": TEAM,
        "team_domain": "carbot-test",
        "channel_id": "C0GENERAL",
        "channel_name": "general",
        "user_id": user,
        "user_name": "alex",
        "command": "/carbot",
        "text": text,
        "api_app_id": "ACARBOT",
        "response_url": response_url,
        "trigger_id": f"{next(_ids)}.trigger",
    }


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


def shown_text(message: dict[str, Any]) -> str:
    """Every piece of text in a message's or view's blocks, joined."""
    parts: list[str] = []
    for block in message.get("blocks", []):
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            text = element.get("text")
            parts.append(text["text"] if isinstance(text, dict) else str(text or ""))
    return "\n".join(parts)


@dataclass
class SlackRequests:
    """Posts signed requests to ``/slack/...`` on carbot's web app."""

    client: httpx.AsyncClient
    fake: FakeSlack
    channel: SlackChannel
    headers: dict[str, str] = field(default_factory=dict)

    async def post(
        self,
        path: str,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": content_type, **sign(body, secret=secret, timestamp=timestamp)}
        headers.update(extra or {})
        response = await self.client.post(f"/slack/{path}", content=body, headers=headers)
        await self.settle()
        return response

    async def settle(self) -> None:
        """Wait for work the channel carried on with after acknowledging."""
        await self.channel.acks.settle()

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        **options: Any,
    ) -> httpx.Response:
        body = json.dumps(event_payload(event, event_id)).encode()
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post("events", body, "application/json", extra=extra, **options)

    async def interact(self, payload: dict[str, Any], **options: Any) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(
            "interactivity", body, "application/x-www-form-urlencoded", **options
        )

    async def command(self, text: str, **options: Any) -> httpx.Response:
        payload = command_payload(text, response_url=self.fake.response_url())
        body = urlencode(payload).encode()
        return await self.post("commands", body, "application/x-www-form-urlencoded", **options)
