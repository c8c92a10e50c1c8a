"""How carbot's Telegram channel is configured, and the python-telegram-bot ``Application`` it
runs on: the Bot API base URL, the pacing of sends, timeouts, and the webhook's route."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from telegram.ext import Application, ApplicationBuilder

from adapters.telegram.ratelimit import PacedRateLimiter

ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
# The webhook route is /telegram/webhook on carbot's web app. The channel mounts its ASGI app on
# /telegram (a mount on the full path would answer a POST to it with a redirect, which Telegram
# does not follow).
WEBHOOK_MOUNT = "/telegram"
WEBHOOK_PATH = "/webhook"


@dataclass(frozen=True)
class TelegramConfig:
    """What the channel needs to know; built from carbot's settings by ``bot.channels``."""

    token: str
    api_base_url: str = "https://api.telegram.org/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    bot_username: str | None = None
    max_upload_bytes: int = 20 * 1024 * 1024
    poll_timeout: float = 30.0  # seconds one getUpdates long poll may wait
    per_window: int = 30  # messages per second, overall
    per_chat_interval: float = 1.0  # seconds between two messages to one chat
    send_retries: int = 2  # extra attempts after a 5xx or a connection that could not be made
    retry_backoff: float = 0.5
    request_timeout: float = 10.0  # seconds to wait for Telegram's answer to a call
    lock_retry_seconds: float = 15.0  # how often a waiting worker tries to become the poller

    def problems(self) -> list[str]:
        """What this configuration lacks for its mode, one sentence each (empty: all is well)."""
        found = []
        if self.mode == "webhook" and not (self.webhook_secret or "").strip():
            found.append(
                "Telegram in webhook mode needs CARBOT_TELEGRAM_WEBHOOK_SECRET "
                "(any long random string); or set CARBOT_TELEGRAM_MODE=polling"
            )
        if self.mode == "webhook" and not (self.webhook_url or "").startswith(
            ("https://", "http://")
        ):
            found.append(
                "Telegram in webhook mode needs CARBOT_TELEGRAM_WEBHOOK_URL or CARBOT_PUBLIC_URL"
            )
        return found

    @property
    def file_base_url(self) -> str:
        base = self.api_base_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("bot")] + "file/bot"
        return base + "/file/bot"


def hide_token_from_logs() -> None:
    """httpx logs every request's URL at INFO, and a Bot API URL holds the bot token."""
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))


def build_application(config: TelegramConfig) -> Application:  # type: ignore[type-arg]
    """A PTB ``Application`` on ``config``'s API base URL, paced by :class:`PacedRateLimiter`."""
    hide_token_from_logs()
    return (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.api_base_url)
        .base_file_url(config.file_base_url)
        .rate_limiter(
            PacedRateLimiter(
                per_window=config.per_window, per_chat_interval=config.per_chat_interval
            )
        )
        .read_timeout(config.request_timeout)
        .write_timeout(config.request_timeout)
        .connect_timeout(config.request_timeout)
        .get_updates_read_timeout(config.request_timeout)
        .updater(None)
        .build()
    )
