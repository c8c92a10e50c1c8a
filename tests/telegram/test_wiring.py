"""``carbot run`` gets a Telegram channel when a token is set, with the poller lock in polling."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from adapters.base import OutboundText, Recipient
from adapters.telegram import TelegramChannel
from bot.channels import build_channels
from bot.locks import FileLock
from bot.services import Services
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram.conftest import Recorder, running


async def test_no_token_means_no_telegram_channel(services: Services) -> None:
    assert all(channel.name != "telegram" for channel in build_channels(services))


async def built_telegram(tmp_path: Path, **overrides: object) -> TelegramChannel:
    """The Telegram channel ``carbot run`` builds from settings with ``overrides``."""
    services = Services.from_settings(
        make_settings(tmp_path, telegram_token="4321:abc", **overrides)
    )
    try:
        [telegram] = [c for c in build_channels(services) if c.name == "telegram"]
    finally:
        await services.close()
    assert isinstance(telegram, TelegramChannel)
    return telegram


async def test_a_token_adds_a_polling_channel_holding_the_poller_lock(tmp_path: Path) -> None:
    telegram = await built_telegram(tmp_path, telegram_bot_username="@hub_bot", max_upload_bytes=99)

    assert telegram.config.mode == "polling" and telegram.config.max_upload_bytes == 99
    assert telegram.bot_username == "hub_bot"
    assert isinstance(telegram._poller_lock, FileLock)
    assert telegram.mounts() == {}


async def test_webhook_mode_mounts_the_route_and_polls_nowhere(tmp_path: Path) -> None:
    telegram = await built_telegram(
        tmp_path,
        telegram_mode="webhook",
        telegram_webhook_url="https://carbot.example.org/telegram/webhook",
        telegram_webhook_secret="s3cret",
    )

    assert telegram._poller_lock is None
    assert list(telegram.mounts()) == ["/telegram"]


async def test_without_a_webhook_url_the_public_url_is_used(tmp_path: Path) -> None:
    telegram = await built_telegram(
        tmp_path,
        telegram_mode="webhook",
        telegram_webhook_secret="s3cret",
        public_url="https://carbot.example.org/",
    )

    assert telegram.config.webhook_url == "https://carbot.example.org/telegram/webhook"


async def test_the_bot_token_never_reaches_the_logs_at_info(
    fake: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running(fake, Recorder()) as channel:
        await channel.send_text(Recipient(1, "4242"), OutboundText("Hello"))
    assert fake.calls_to("sendMessage")
    assert fake.token not in caplog.text
    assert fake.token.split(":")[1] not in caplog.text
