"""The web chat channel: a personal chat page on carbot's own web app."""

from adapters.webchat.channel import (
    NAME,
    Bubble,
    ChatHistory,
    HistoryFn,
    WebChatChannel,
    identity_key,
    new_token,
)

__all__ = [
    "NAME",
    "Bubble",
    "ChatHistory",
    "HistoryFn",
    "WebChatChannel",
    "identity_key",
    "new_token",
]
