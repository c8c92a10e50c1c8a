"""Turning a Telegram message into the core's channel-neutral :class:`InboundMessage`.

Evidence (photos, documents, voice notes) is fetched here with getFile and downloaded, but only
after Telegram's own ``file_size`` says it fits under the upload limit; a file over the limit is
never downloaded and the message says ``too_large``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import Bot, Document, Message, PhotoSize, Voice
from telegram.constants import MessageEntityType

from adapters.base import AttachmentKind, InboundAttachment, InboundMessage

log = logging.getLogger(__name__)

CHANNEL = "telegram"

Media = PhotoSize | Document | Voice


def message_ref(chat_id: int | str, message_id: int) -> str:
    """The ``chat_id:message_id`` reference kept on a delivery (``MessageRef.ref``)."""
    return f"{chat_id}:{message_id}"


def parse_ref(ref: str) -> tuple[str, int] | None:
    chat, _, message_id = ref.rpartition(":")
    if not chat or not message_id.lstrip("-").isdigit():
        return None
    return chat, int(message_id)


def split_command(message: Message) -> tuple[str | None, str]:
    """``/note went well`` → ("note", "went well"); ``/start@carbot_bot abc`` → ("start", "abc")."""
    text = message.text or ""
    entity = next(iter(message.entities or ()), None)
    if entity is None or entity.type != MessageEntityType.BOT_COMMAND or entity.offset != 0:
        return None, ""
    name = text[1 : entity.length].split("@", 1)[0].lower()
    return name, text[entity.length :].strip()


def _media(message: Message) -> tuple[AttachmentKind, Media, str, str] | None:
    """What was attached: (kind, the file, a file name, its content type)."""
    if message.photo:
        photo = message.photo[-1]  # Telegram lists sizes smallest first
        return "photo", photo, f"photo-{photo.file_unique_id}.jpg", "image/jpeg"
    if message.voice:
        voice = message.voice
        content_type = voice.mime_type or "audio/ogg"
        return "voice", voice, f"voice-{voice.file_unique_id}.ogg", content_type
    if message.document:
        document = message.document
        name = document.file_name or f"file-{document.file_unique_id}"
        return "file", document, name, document.mime_type or "application/octet-stream"
    return None


async def to_inbound(
    bot: Bot, update_id: int, message: Message, max_upload_bytes: int
) -> InboundMessage | None:
    """The inbound message, with any evidence downloaded; None when there is nothing to read."""
    command, args = split_command(message)
    text = None if command else (message.text or message.caption)
    attachments: tuple[InboundAttachment, ...] = ()
    too_large = False
    media = _media(message)
    if media is not None:
        kind, item, filename, content_type = media
        data = await _download(bot, item, max_upload_bytes)
        if data is None:
            too_large = True
        else:
            attachments = (InboundAttachment(kind, filename, content_type, data),)
    if command is None and not text and not attachments and not too_large:
        return None
    reply = message.reply_to_message
    return InboundMessage(
        channel=CHANNEL,
        event_id=str(update_id),
        external_id=str(message.chat.id),
        received_at=(message.date or datetime.now(UTC)).astimezone(UTC),
        text=text,
        command=command,
        args=args,
        reply_to=message_ref(message.chat.id, reply.message_id) if reply else None,
        attachments=attachments,
        too_large=too_large,
    )


async def _download(bot: Bot, item: Media, limit: int) -> bytes | None:
    """The file's bytes, or None when it is over ``limit`` (checked before downloading)."""
    if item.file_size is not None and item.file_size > limit:
        log.info("Refused a %d-byte upload over the limit", item.file_size)
        return None
    remote = await bot.get_file(item.file_id)
    if remote.file_size is not None and remote.file_size > limit:
        log.info("Refused a %d-byte upload over the limit", remote.file_size)
        return None
    data = bytes(await remote.download_as_bytearray())
    if len(data) > limit:
        log.info("Refused a %d-byte download over the limit", len(data))
        return None
    return data
