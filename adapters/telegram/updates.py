"""Reading an update Telegram sent (by webhook or getUpdates) into a PTB ``Update``.

An update python-telegram-bot cannot read, or one without the parts carbot relies on (a message
with no chat, a tap with no sender), is :class:`UnreadableUpdate`: the webhook answers 400 and the
poller skips it, so it is never tried again for ever. It is logged by its ``update_id`` and the
kind of error only — never by its content, which holds what a person wrote.
"""

from __future__ import annotations

from typing import Any

from telegram import Bot, Update

from adapters.errors import UnreadableUpdate


def update_id_of(data: object) -> int | None:
    value = data.get("update_id") if isinstance(data, dict) else None
    return value if type(value) is int and value >= 0 else None


def read_update(data: Any, bot: Bot) -> Update:
    """The update in ``data``; :class:`UnreadableUpdate` when it is not one carbot can handle."""
    update_id = update_id_of(data)
    if update_id is None:
        raise UnreadableUpdate(None, "no update_id")
    try:
        update = Update.de_json(data, bot)
    except Exception as exc:
        raise UnreadableUpdate(update_id, type(exc).__name__) from None
    for message in (update.message, update.edited_message):
        if message is not None and (message.chat is None or type(message.chat.id) is not int):
            raise UnreadableUpdate(update_id, "a message without a chat")
        if message is not None and message.text is not None and not isinstance(message.text, str):
            raise UnreadableUpdate(update_id, "a message whose text is not text")
    query = update.callback_query
    if query is not None and query.message is not None and query.message.chat is None:
        raise UnreadableUpdate(update_id, "a tap on a message without a chat")
    if query is not None and query.data is not None and not isinstance(query.data, str):
        raise UnreadableUpdate(update_id, "a tap whose data is not text")
    return update
