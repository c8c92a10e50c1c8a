"""Telegram on carbot's side: the channel built from the settings, with the leader lock that lets
only one of several workers poll the bot token (:mod:`bot.locks`), its configuration problems and
its ``carbot telegram`` commands (:mod:`bot.channels.telegram_cli`). python-telegram-bot is
imported only when a Telegram token is set: a worker without Telegram does not carry it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from bot.channels import ChannelPlugin
from bot.locks import telegram_poller_lock
from bot.settings import Settings

if TYPE_CHECKING:
    from adapters.telegram import TelegramChannel, TelegramConfig

log = logging.getLogger(__name__)


def telegram_config(settings: Settings) -> TelegramConfig | None:
    """The channel's configuration, or None when no Telegram token is set."""
    if settings.telegram_token is None:
        return None
    from adapters.telegram import TelegramConfig  # the SDK, imported only now
    from adapters.telegram.config import WEBHOOK_MOUNT, WEBHOOK_PATH

    secret = settings.telegram_webhook_secret
    return TelegramConfig(
        token=settings.telegram_token.get_secret_value(),
        api_base_url=settings.telegram_api_base_url,
        mode=settings.telegram_mode,
        webhook_url=settings.telegram_webhook_url
        or settings.public_url.rstrip("/") + WEBHOOK_MOUNT + WEBHOOK_PATH,
        webhook_secret=secret.get_secret_value() if secret is not None else None,
        bot_username=settings.telegram_bot_username,
        max_upload_bytes=settings.max_upload_bytes,
    )


def problems(settings: Settings) -> list[str]:
    config = telegram_config(settings)
    return config.problems() if config is not None else []


def telegram_channel(settings: Settings) -> TelegramChannel | None:
    """The Telegram channel when a token is set. In polling mode it is given the poller lock;
    in webhook mode every worker serves the route and none polls, so no lock is needed."""
    config = telegram_config(settings)
    if config is None:
        return None
    from adapters.telegram import TelegramChannel

    lock = telegram_poller_lock(settings) if config.mode == "polling" else None
    log.info("Telegram channel configured (%s)", config.mode)
    return TelegramChannel(config, poller_lock=lock)


def _commands() -> click.Command:
    from bot.channels.telegram_cli import telegram

    return telegram


PLUGIN = ChannelPlugin(
    name="telegram",
    build=lambda services: telegram_channel(services.settings),
    problems=problems,
    commands=lambda: (_commands(),),
)
