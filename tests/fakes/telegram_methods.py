"""The Bot API methods the fake answers, the updates it builds for tests, and the records it
keeps (see ``telegram_api``)."""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

TOKEN = "123456:TEST-token-for-the-fake"
BOT_ID = 123456
MESSAGE_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    at: float  # time.monotonic() when it was answered
    wall: float = field(default_factory=time.time)  # the same moment, as wall-clock time


@dataclass
class Fault:
    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | None = None
    delay: float = 0.0  # seconds to wait before answering (a slow server; 200 after it)


@dataclass
class FakeFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_size: int
    file_path: str


@dataclass
class ChatMessage:
    """One message in a chat, as the person sees it now."""

    message_id: int
    text: str
    buttons: list[list[dict[str, Any]]] = field(default_factory=list)
    from_bot: bool = True

    @property
    def button_data(self) -> list[str]:
        return [button["callback_data"] for row in self.buttons for button in row]


class BotApiMethods:
    """``_m_<method>`` answers Bot API ``<method>``; the state lives on the fake."""

    bot_username: str
    webhook_url: str
    webhook_secret: str | None
    commands: list[dict[str, str]]
    _updates: list[dict[str, Any]]
    _files: dict[str, FakeFile]
    _chats: defaultdict[int, dict[int, ChatMessage]]
    _message_ids: itertools.count[int]

    def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "carbot",
            "username": self.bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _bot_message(self, chat_id: int, message_id: int, text: str, markup: Any) -> dict:
        body: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "carbot"},
            "text": text,
        }
        if markup:
            body["reply_markup"] = markup
        return body

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        markup = params.get("reply_markup") or {}
        message_id = next(self._message_ids)
        self._chats[chat_id][message_id] = ChatMessage(
            message_id, str(params["text"]), list(markup.get("inline_keyboard", []))
        )
        return self._bot_message(chat_id, message_id, str(params["text"]), markup)

    def _edit(self, params: dict[str, Any], text: str | None) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        shown = self._chats[chat_id].setdefault(message_id, ChatMessage(message_id, ""))
        if text is not None:
            shown.text = text
        markup = params.get("reply_markup") or {}
        shown.buttons = list(markup.get("inline_keyboard", []))
        return self._bot_message(chat_id, message_id, shown.text, markup)

    def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params, str(params["text"]))

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params, None)

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        item = self._files[str(params["file_id"])]
        return {
            "file_id": item.file_id,
            "file_unique_id": item.file_unique_id,
            "file_size": item.file_size,
            "file_path": item.file_path,
        }

    def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = str(params["url"])
        self.webhook_secret = params.get("secret_token")
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = ""
        self.webhook_secret = None
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        self.commands = list(params["commands"])
        return True

    def _m_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands

    def _m_getUpdates(self, params: dict[str, Any]) -> list[Any]:  # routed to _get_updates
        return []


class UpdateBuilders:
    """Updates as Telegram would send them, for :meth:`FakeTelegramAPI.add_update`."""

    _chats: defaultdict[int, dict[int, ChatMessage]]
    _message_ids: itertools.count[int]

    def message(self, chat_id: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
        """A ``message`` update from a person (a private chat unless ``chat`` says otherwise)."""
        body: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": extra.pop("chat", {"id": chat_id, "type": "private", "first_name": "Ana"}),
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ana"},
        }
        if text is not None:
            body["text"] = text
            if text.startswith("/"):
                length = len(text.split()[0])
                body["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        body.update(extra)
        return {"message": body}

    def tap(self, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        """A ``callback_query`` update: the person tapped a button on one of the bot's messages."""
        shown = self._chats[chat_id].get(message_id)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "carbot"},
            "text": shown.text if shown else "",
        }
        if shown is not None and shown.buttons:
            message["reply_markup"] = {"inline_keyboard": shown.buttons}
        return {
            "callback_query": {
                "id": f"cb-{next(self._message_ids)}",
                "from": {"id": chat_id, "is_bot": False, "first_name": "Ana"},
                "chat_instance": "ci",
                "message": message,
                "data": data,
            }
        }
