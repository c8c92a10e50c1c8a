"""The Telegram channel (python-telegram-bot)."""

from __future__ import annotations

from adapters.telegram.channel import TelegramChannel
from adapters.telegram.commands import COMMANDS, Command, botfather_list, help_lines
from adapters.telegram.config import TelegramConfig, build_application
from adapters.telegram.messages import sign_up_link
from adapters.telegram.polling import PollerLock
from adapters.telegram.ratelimit import PacedRateLimiter

__all__ = [
    "COMMANDS",
    "Command",
    "PacedRateLimiter",
    "PollerLock",
    "TelegramChannel",
    "TelegramConfig",
    "botfather_list",
    "build_application",
    "help_lines",
    "sign_up_link",
]
