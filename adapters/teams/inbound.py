"""One Teams activity → one channel-neutral :class:`InboundMessage`.

The activity id is the event id, so a redelivered activity is handled once by the core. The
sender is known by the conversation (the personal chat between them and the bot) within their
tenant: ``external_id`` is the conversation id and ``workspace`` the tenant id — together the
conversation reference carbot stores, since proactive messages go to the Bot Connector's global
address (``TeamsConfig.service_url``) with the conversation id.

A tap on a card's ``Action.Submit`` arrives as a message whose ``value`` is the button's data
(:mod:`adapters.teams.cards`, its ``carbot`` value read by :func:`adapters.actions.unpack`) plus
the card's text box; a file sent in the chat arrives as a ``file.download.info`` attachment with
a short-lived download link, an image pasted into the message as an ``image/*`` attachment
behind the Bot Connector (fetched with the bot's token).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

import adapters.actions as actions
from adapters.base import AttachmentKind, InboundAttachment, InboundMessage
from adapters.errors import FileTooLarge
from adapters.teams.cards import ANSWER_INPUT
from adapters.teams.config import CHANNEL

log = logging.getLogger(__name__)

FILE_INFO = "application/vnd.microsoft.teams.file.download.info"
CARD_TYPES = ("application/vnd.microsoft.card.", "text/html")

TokenSource = Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class Sender:
    """Who sent an activity, and where to answer them."""

    conversation: str
    tenant: str
    service_url: str
    user: str
    personal: bool


def sender(activity: dict[str, Any]) -> Sender | None:
    conversation = activity.get("conversation") or {}
    channel_data = activity.get("channelData") or {}
    tenant = (channel_data.get("tenant") or {}).get("id") or conversation.get("tenantId") or ""
    conversation_id = conversation.get("id")
    if not isinstance(conversation_id, str) or not conversation_id:
        return None
    kind = conversation.get("conversationType") or "personal"
    return Sender(
        conversation=conversation_id,
        tenant=str(tenant),
        service_url=str(activity.get("serviceUrl") or ""),
        user=str((activity.get("from") or {}).get("id") or ""),
        personal=kind == "personal" and not conversation.get("isGroup"),
    )


def received_at() -> datetime:
    return datetime.now(UTC)


def card_data(value: object) -> dict[str, Any] | None:
    """A card button's data, when ``value`` is a tap on one of carbot's cards (its ``carbot``
    value may still be one carbot cannot read: :func:`card_tap` says)."""
    if isinstance(value, dict) and isinstance(value.get("carbot"), str):
        return value
    return None


def card_tap(data: dict[str, Any]) -> actions.Tap | None:
    """What the tapped button carried; None when carbot could not have made it."""
    return actions.unpack(data["carbot"])


def from_card(
    activity: dict[str, Any], who: Sender, tap: actions.Tap, data: dict[str, Any]
) -> InboundMessage:
    """A tapped button (a choice, a scale value, or *Send* with the text box's answer)."""
    typed = data.get(ANSWER_INPUT)
    text = typed.strip() if isinstance(typed, str) and typed.strip() else None
    writes = isinstance(tap.action, actions.Write)  # *Send*: the words are the answer
    return InboundMessage(
        channel=CHANNEL,
        event_id=str(activity.get("id") or ""),
        external_id=who.conversation,
        workspace=who.tenant,
        received_at=received_at(),
        text=text,
        choice=None if writes else tap.value,
        delivery_id=tap.delivery_id,
        reply_to=_str(activity.get("replyToId")),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _kind(content_type: str) -> AttachmentKind:
    if content_type.startswith("image/"):
        return "photo"
    if content_type.startswith("audio/"):
        return "voice"
    return "file"


_BY_EXTENSION = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "heic": "image/heic",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


async def _download(
    client: httpx.AsyncClient, url: str, limit: int, headers: dict[str, str]
) -> bytes:
    async with client.stream("GET", url, headers=headers) as response:
        response.raise_for_status()
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise FileTooLarge
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data.extend(chunk)
            if len(data) > limit:
                raise FileTooLarge
        return bytes(data)


async def read_attachments(
    activity: dict[str, Any],
    client: httpx.AsyncClient,
    *,
    limit: int,
    bot_token: TokenSource,
    trusted_base: str,
) -> tuple[tuple[InboundAttachment, ...], bool]:
    """The files sent with ``activity``, downloaded (and whether one was over ``limit``).

    The bot's token is only ever sent to the Bot Connector the activity came from
    (``trusted_base``), never to a link elsewhere. A failed download raises
    :class:`httpx.HTTPError`, so the activity fails and Teams may deliver it again.
    """
    found: list[InboundAttachment] = []
    too_large = False
    for item in activity.get("attachments") or []:
        if not isinstance(item, dict):
            continue
        content_type = str(item.get("contentType") or "")
        name = str(item.get("name") or "file")
        content: dict[str, Any] = item.get("content") or {}
        if not isinstance(content, dict):
            content = {}
        if content_type == FILE_INFO:
            url = content.get("downloadUrl")
            extension = str(content.get("fileType") or name.rpartition(".")[2]).lower()
            real_type = _BY_EXTENSION.get(extension, "application/octet-stream")
            headers: dict[str, str] = {}
        elif content_type.startswith(("image/", "audio/")) and item.get("contentUrl"):
            url = item.get("contentUrl")
            real_type = content_type
            headers = {}
            if str(url).startswith(trusted_base.rstrip("/") + "/"):
                headers = {"Authorization": f"Bearer {await bot_token()}"}
            if name == "file":
                name = "image." + content_type.partition("/")[2] if "/" in content_type else name
        else:
            continue  # the message's own HTML copy, a card: not a file
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            continue
        try:
            data = await _download(client, url, limit, headers)
        except FileTooLarge:
            too_large = True
            continue
        found.append(InboundAttachment(_kind(real_type), name, real_type, data))
    return tuple(found), too_large


def from_message(
    activity: dict[str, Any],
    who: Sender,
    attachments: tuple[InboundAttachment, ...] = (),
    too_large: bool = False,
) -> InboundMessage:
    """A typed message (every command works typed: ``link CODE``, ``skip``, ``help``…)."""
    text = activity.get("text")
    return InboundMessage(
        channel=CHANNEL,
        event_id=str(activity.get("id") or ""),
        external_id=who.conversation,
        workspace=who.tenant,
        received_at=received_at(),
        text=text.strip() if isinstance(text, str) and text.strip() else None,
        reply_to=_str(activity.get("replyToId")),
        attachments=attachments,
        too_large=too_large,
    )


def installed(activity: dict[str, Any], who: Sender) -> InboundMessage:
    """The app was added to a personal chat: the core answers as to a first ``start``."""
    return InboundMessage(
        channel=CHANNEL,
        event_id=str(activity.get("id") or ""),
        external_id=who.conversation,
        workspace=who.tenant,
        received_at=received_at(),
        command="start",
    )
