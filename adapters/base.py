"""The channel seam: one small interface that every chat channel implements.

The conversation core speaks only these channel-neutral types. A channel (``adapters/telegram``,
``adapters/slack``, ``adapters/webchat``) turns platform events into an :class:`InboundMessage`,
passes it to the handler it was given at :meth:`Channel.start`, and renders the
:class:`InboundResult` it gets back. Adapters never touch the database and never import the core.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

# A failed send is part of the seam; its one definition is in adapters.errors.
from adapters.errors import DeliveryError as DeliveryError

PromptKind = Literal["text", "scale", "choice", "evidence"]
AttachmentKind = Literal["photo", "file", "voice"]

# An ASGI application, as mounted on carbot's web app (webhook and HTTP-mode routes).
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class Recipient:
    """Where a message goes: one channel identity, as the platform knows it."""

    identity_id: int
    external_id: str  # Telegram chat id, Slack user id, web chat identity key
    workspace: str | None = None  # Slack team id


@dataclass(frozen=True)
class Choice:
    """One tap-to-answer option: the value stored, and the label shown."""

    value: str
    label: str


@dataclass(frozen=True)
class OutboundPrompt:
    """A prompt to deliver, with its quick-reply controls."""

    delivery_id: int
    kind: PromptKind
    text: str
    choices: tuple[Choice, ...] = ()  # scale values 1–5 with labels, or the options of a choice
    context: str | None = None  # e.g. "Family hub · Exploring evidence"
    reminder: bool = False
    reminds: str | None = None  # a reminder's original prompt (its MessageRef.ref), if known
    # An earlier attempt may have reached the platform: a channel that can look up what it
    # sent does so before sending again (Slack); one that cannot sends again (at-least-once).
    resend: bool = False


@dataclass(frozen=True)
class OutboundText:
    """A reply, confirmation or notice; ``choices`` become buttons (consent, which project…)."""

    text: str
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class MessageRef:
    """The platform's reference to a sent message (Telegram ``chat:message_id``, Slack
    ``channel:ts``), kept on the delivery so that replies and taps can be matched to it."""

    channel: str
    ref: str


@dataclass(frozen=True)
class InboundAttachment:
    """A file someone sent, already downloaded by the adapter (within the size limit)."""

    kind: AttachmentKind
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InboundMessage:
    """One platform event, channel-neutral.

    ``event_id`` is the platform's own id (Telegram ``update_id``, Slack ``event_id``); the core
    stores it with a unique constraint, so a redelivered event is handled once.
    """

    channel: str
    event_id: str
    external_id: str
    received_at: datetime
    workspace: str | None = None
    text: str | None = None
    command: str | None = None  # set when the platform marked it as a command (/note, slash)
    args: str = ""
    choice: str | None = None  # the value of a tapped button
    delivery_id: int | None = None  # the prompt a button or modal belongs to
    reply_to: str | None = None  # MessageRef.ref of the message this replies to
    attachments: tuple[InboundAttachment, ...] = ()
    too_large: bool = False  # the person sent a file over the size limit; nothing was downloaded


@dataclass(frozen=True)
class Answered:
    """Tells the adapter that a prompt was answered, so it can show the answer on it.

    ``message_refs`` holds every message of the prompt still showing buttons (the prompt and
    its reminder, when one was sent): a channel clears them all, whichever was tapped.
    ``prompt_text`` is the question, for a channel that cannot read its own message back.
    """

    delivery_id: int
    message_refs: tuple[str, ...]
    label: str
    prompt_text: str = ""


@dataclass
class InboundResult:
    """What the core wants said back, after it has committed what it stored."""

    replies: list[OutboundText] = field(default_factory=list)
    answered: Answered | None = None
    duplicate: bool = False  # the event was seen before; nothing was stored or said again
    # the person's standing changed (paused, resumed, audience, linked, joined or left): a
    # channel that shows it elsewhere (Slack's App Home) shows it again
    state_changed: bool = False


InboundHandler = Callable[[InboundMessage], Awaitable[InboundResult]]


@runtime_checkable
class Channel(Protocol):
    """What every channel offers the core."""

    name: str

    async def start(self, handler: InboundHandler) -> None:
        """Connect (polling, Socket Mode, …) and pass each inbound event to ``handler``."""

    async def stop(self) -> None:
        """Disconnect; in-flight sends finish first."""

    async def send_prompt(self, to: Recipient, prompt: OutboundPrompt) -> MessageRef:
        """Deliver a prompt with its controls. Raises :class:`DeliveryError`."""

    async def send_text(self, to: Recipient, message: OutboundText) -> MessageRef:
        """Deliver a reply or notice. Raises :class:`DeliveryError`."""

    def mounts(self) -> Mapping[str, ASGIApp]:
        """ASGI apps to mount on carbot's web app, by path (webhooks, HTTP-mode events)."""
