"""The web chat channel: a chat page served by carbot's web app, for people with neither Slack
nor Telegram, and the reference channel for the conversation core.

A person's personal link is ``/chat/<token>``; only ``identity_key(token)`` (a SHA-256) is kept
as their channel identity's ``external_id``, so the database never holds a working link.
Prompts reach an open page live by server-sent events; the page's history (open prompts, recent
answers) is rebuilt from the database by the ``history`` function the app passes in, so nothing
is lost across a restart or a closed tab. This module never touches the database itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from adapters.base import (
    ASGIApp,
    Choice,
    InboundHandler,
    MessageRef,
    OutboundPrompt,
    OutboundText,
    Recipient,
)

log = logging.getLogger(__name__)

NAME = "webchat"


def new_token() -> str:
    """An unguessable personal link token (192 bits)."""
    return secrets.token_urlsafe(24)


def identity_key(token: str) -> str:
    """The web chat identity's ``external_id`` for ``token``: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Bubble:
    """One chat message on the page."""

    id: str
    sender: Literal["bot", "me"]
    text: str
    at: datetime | None = None
    context: str | None = None
    choices: tuple[Choice, ...] = ()
    delivery_id: int | None = None
    answered: str | None = None  # the prompt is closed: what was answered (or why it closed)
    files: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sender": self.sender,
            "text": self.text,
            "at": self.at.isoformat() if self.at else None,
            "context": self.context,
            "choices": [{"value": c.value, "label": c.label} for c in self.choices],
            "delivery_id": self.delivery_id,
            "answered": self.answered,
            "files": list(self.files),
        }


@dataclass(frozen=True)
class ChatHistory:
    """Who the page belongs to and what it shows on load."""

    name: str
    bubbles: list[Bubble] = field(default_factory=list)


# external_id → the page's history; None when the identity is unknown or revoked (→ 404).
HistoryFn = Callable[[str], Awaitable[ChatHistory | None]]


class WebChatChannel:
    """The :class:`adapters.base.Channel` for the web chat page."""

    name = NAME

    def __init__(
        self,
        *,
        history: HistoryFn,
        secret_key: str,
        max_upload_bytes: int,
        answer_limit: int,
        heartbeat_seconds: float = 15.0,
    ) -> None:
        self.history = history
        self.secret_key = secret_key
        self.max_upload_bytes = max_upload_bytes
        self.answer_limit = answer_limit  # characters; shown on the page, enforced by the core
        self.heartbeat_seconds = heartbeat_seconds
        self.handler: InboundHandler | None = None
        self._pages: dict[str, set[asyncio.Queue[dict[str, Any] | None]]] = {}
        self._ids = itertools.count(1)
        self._app: ASGIApp | None = None

    # ── the Channel protocol ───────────────────────────────────────────────────────────────

    async def start(self, handler: InboundHandler) -> None:
        self.handler = handler
        log.info("web chat channel started", extra={"action": "webchat.start"})

    async def stop(self) -> None:
        self.handler = None
        for queues in self._pages.values():
            for queue in queues:
                queue.put_nowait(None)  # ends each open event stream
        self._pages.clear()

    async def send_prompt(self, to: Recipient, prompt: OutboundPrompt) -> MessageRef:
        bubble = Bubble(
            id=f"d{prompt.delivery_id}",
            sender="bot",
            text=("Reminder: " if prompt.reminder else "") + prompt.text,
            context=prompt.context,
            choices=prompt.choices,
            delivery_id=prompt.delivery_id,
        )
        self.push(to.external_id, bubble)
        # The page shows open prompts from the database, so a closed tab still gets it later.
        suffix = "r" if prompt.reminder else ""
        return MessageRef(NAME, f"{NAME}:d{prompt.delivery_id}{suffix}")

    async def send_text(self, to: Recipient, message: OutboundText) -> MessageRef:
        ref = f"t{next(self._ids)}-{secrets.token_hex(4)}"
        self.push(to.external_id, Bubble(id=ref, sender="bot", text=message.text,
                                         choices=message.choices))  # fmt: skip
        return MessageRef(NAME, f"{NAME}:{ref}")

    def mounts(self) -> Mapping[str, ASGIApp]:
        if self._app is None:
            from adapters.webchat.routes import chat_app

            self._app = chat_app(self)
        return {"/chat": self._app}

    # ── live pages ─────────────────────────────────────────────────────────────────────────

    def push(self, external_id: str, bubble: Bubble) -> int:
        """Show ``bubble`` on every open page of ``external_id``; returns how many pages."""
        queues = self._pages.get(external_id, set())
        shown = 0
        for queue in queues:
            try:
                queue.put_nowait(bubble.as_json())
                shown += 1
            except asyncio.QueueFull:  # a stalled page: it reloads its history on reconnect
                log.warning("a web chat page is not keeping up; dropped a live update")
        return shown

    def subscribe(self, external_id: str) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=100)
        self._pages.setdefault(external_id, set()).add(queue)
        return queue

    def unsubscribe(self, external_id: str, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        queues = self._pages.get(external_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._pages[external_id]
