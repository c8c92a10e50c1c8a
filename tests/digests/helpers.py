"""Run every digest kind the way the scheduler does, and collect what people would read."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from adapters.base import (
    ASGIApp,
    InboundHandler,
    MessageRef,
    OutboundPrompt,
    OutboundText,
    Recipient,
)
from adapters.errors import DeliveryError
from bot.engine.digest_jobs import send_due_digests
from bot.engine.heard import send_what_we_heard
from tests.digests.factory import MONDAY, at

WEEKLY_TIME = at(MONDAY + timedelta(days=7), 8, 30)  # Monday 15 March 2027 08:30 London
HEARD_TIME = at(MONDAY + timedelta(days=4), 15, 30)  # Friday 12 March 2027 15:30 London


@dataclass
class RecordingChannel:
    """A channel that records what it was asked to send (the core-test stand-in)."""

    name: str = "webchat"
    sent: list[tuple[Recipient, OutboundText]] = field(default_factory=list)
    fail_with: DeliveryError | None = None

    async def start(self, handler: InboundHandler) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send_prompt(self, to: Recipient, prompt: OutboundPrompt) -> MessageRef:
        raise AssertionError("digests never send prompts")

    async def send_text(self, to: Recipient, message: OutboundText) -> MessageRef:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((to, message))
        return MessageRef(self.name, f"{to.external_id}:{len(self.sent)}")

    def mounts(self) -> Mapping[str, ASGIApp]:
        return {}


def outbox_messages(outbox: Path) -> list[EmailMessage]:
    found = []
    for path in sorted(Path(outbox).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def bodies(message: EmailMessage) -> list[str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return [str(plain.get_content()), str(html.get_content())]


async def run_every_kind(services: Any) -> dict[str, list[str]]:
    """Send "what we heard" (Friday) and the weekly digests (Monday) to the outbox and a
    recording channel; the texts each kind produced, by kind (both parts of every email)."""
    channel = RecordingChannel()
    await send_what_we_heard(services, {"webchat": channel}, HEARD_TIME)
    await send_due_digests(services, WEEKLY_TIME)
    out: dict[str, list[str]] = {"lead_weekly": [], "cross_partnership": [], "what_we_heard": []}
    for message in outbox_messages(services.settings.outbox_dir):
        kind = "cross_partnership" if "Across partnerships" in message["Subject"] else "lead_weekly"
        out[kind].extend(bodies(message))
    out["what_we_heard"] = [text.text for _, text in channel.sent]
    return out
