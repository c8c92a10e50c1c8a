"""A recording stub channel, for testing anything that talks to people through a channel.

``TranscriptChannel`` implements :class:`adapters.base.Channel` without a network: it records
every prompt and text "sent", and can play the part of a person by handing an
:class:`InboundMessage` to the handler it was started with, then "sending" the replies the way a
real adapter would (after the handler returned). Modelled on zulip_bots' ``StubBotHandler``.

    channel = TranscriptChannel()
    await channel.start(Conversation(services).handle)
    await channel.say("ext-1", "It went well")
    assert "Saved" in channel.unique_reply().text
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.base import (
    ASGIApp,
    InboundAttachment,
    InboundHandler,
    InboundMessage,
    InboundResult,
    MessageRef,
    OutboundPrompt,
    OutboundText,
    Recipient,
)
from adapters.errors import DeliveryError

SendHook = Callable[[Recipient, OutboundPrompt | OutboundText], Awaitable[None]]


@dataclass
class Sent:
    """One message the channel was asked to deliver."""

    to: Recipient
    message: OutboundPrompt | OutboundText
    ref: MessageRef


@dataclass
class TranscriptChannel:
    """A channel that delivers nothing and remembers everything."""

    name: str = "webchat"
    workspace: str | None = None
    on_send: SendHook | None = None  # called before a send is recorded (e.g. to check the DB)
    fail_with: DeliveryError | None = None  # make every send raise this
    sent: list[Sent] = field(default_factory=list)
    results: list[InboundResult] = field(default_factory=list)
    handler: InboundHandler | None = None
    started: bool = False
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _read: int = 0

    # ── the Channel protocol ───────────────────────────────────────────────────────────────

    async def start(self, handler: InboundHandler) -> None:
        self.handler = handler
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def send_prompt(self, to: Recipient, prompt: OutboundPrompt) -> MessageRef:
        return await self._send(to, prompt)

    async def send_text(self, to: Recipient, message: OutboundText) -> MessageRef:
        return await self._send(to, message)

    def mounts(self) -> Mapping[str, ASGIApp]:
        return {}

    async def _send(self, to: Recipient, message: OutboundPrompt | OutboundText) -> MessageRef:
        if self.fail_with is not None:
            raise self.fail_with
        if self.on_send is not None:
            await self.on_send(to, message)
        ref = MessageRef(self.name, f"{self.name}:{next(self._ids)}")
        self.sent.append(Sent(to, message, ref))
        return ref

    # ── playing the person ─────────────────────────────────────────────────────────────────

    def message(self, external_id: str, text: str | None = None, **fields: Any) -> InboundMessage:
        """An inbound message from ``external_id``; a fresh event id unless one is given."""
        fields.setdefault("event_id", f"evt-{next(self._ids)}")
        fields.setdefault("received_at", datetime.now(UTC))
        fields.setdefault("workspace", self.workspace)
        return InboundMessage(channel=self.name, external_id=external_id, text=text, **fields)

    async def deliver(self, message: InboundMessage) -> InboundResult:
        """Hand ``message`` to the handler, then send its replies as an adapter would."""
        if self.handler is None:
            raise RuntimeError("the channel was not started with a handler")
        result = await self.handler(message)
        self.results.append(result)
        to = Recipient(identity_id=0, external_id=message.external_id, workspace=message.workspace)
        for reply in result.replies:
            await self.send_text(to, reply)
        return result

    async def say(self, external_id: str, text: str | None = None, **fields: Any) -> InboundResult:
        """The person ``external_id`` sends ``text`` (or a tap, a file… given as fields)."""
        return await self.deliver(self.message(external_id, text, **fields))

    async def tap(
        self, external_id: str, choice: str, *, delivery_id: int | None = None, **fields: Any
    ) -> InboundResult:
        """The person taps the button whose value is ``choice``."""
        return await self.say(external_id, choice=choice, delivery_id=delivery_id, **fields)

    async def upload(
        self,
        external_id: str,
        data: bytes,
        *,
        filename: str = "photo.jpg",
        content_type: str = "image/jpeg",
        kind: str = "photo",
        text: str | None = None,
        **fields: Any,
    ) -> InboundResult:
        """The person sends a file (with an optional caption)."""
        attachment = InboundAttachment(kind, filename, content_type, data)  # type: ignore[arg-type]
        return await self.say(external_id, text, attachments=(attachment,), **fields)

    # ── reading the transcript ─────────────────────────────────────────────────────────────

    @property
    def prompts(self) -> list[OutboundPrompt]:
        return [s.message for s in self.sent if isinstance(s.message, OutboundPrompt)]

    @property
    def texts(self) -> list[OutboundText]:
        return [s.message for s in self.sent if isinstance(s.message, OutboundText)]

    def new_texts(self) -> list[OutboundText]:
        """Texts sent since the last call to :meth:`new_texts` or :meth:`unique_reply`."""
        texts = self.texts
        fresh, self._read = texts[self._read :], len(texts)
        return fresh

    def unique_reply(self) -> OutboundText:
        """The one text sent since the last read; fails unless there was exactly one."""
        fresh = self.new_texts()
        assert len(fresh) == 1, f"expected exactly one reply, got {[t.text for t in fresh]}"
        return fresh[0]

    def no_reply(self) -> None:
        fresh = self.new_texts()
        assert not fresh, f"expected no reply, got {[t.text for t in fresh]}"

    def choice_values(self, message: OutboundText | OutboundPrompt) -> list[str]:
        return [c.value for c in message.choices]
