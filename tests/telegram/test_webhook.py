"""Webhook mode: Telegram POSTs updates to a route on carbot's web app, with a secret header."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from adapters.telegram import TelegramChannel
from bot.services import Services
from bot.web.app import create_app
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram.conftest import ANA, Recorder, config_for, serving

SECRET = "a-long-random-webhook-secret"


@asynccontextmanager
async def webhook_channel(
    fake: FakeTelegramAPI, services: Services, core: Recorder
) -> AsyncIterator[TelegramChannel]:
    channel = TelegramChannel(
        config_for(
            fake,
            mode="webhook",
            webhook_secret=SECRET,
            webhook_url="https://carbot.example.org/telegram/webhook",
        )
    )
    async with serving(create_app(services, [channel])) as base:
        await channel.start(core)
        fake.webhook_url = f"{base}/telegram/webhook"  # where the public URL leads, in the test
        try:
            yield channel
        finally:
            await channel.stop()


async def test_starting_in_webhook_mode_registers_the_webhook_with_its_secret(
    fake: FakeTelegramAPI, services: Services
) -> None:
    async with webhook_channel(fake, services, Recorder()):
        [call] = fake.calls_to("setWebhook")
    assert call.params["url"] == "https://carbot.example.org/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert fake.calls_to("getUpdates") == []


async def test_an_update_posted_with_the_secret_reaches_the_core_and_is_answered(
    fake: FakeTelegramAPI, services: Services
) -> None:
    core = Recorder()
    async with webhook_channel(fake, services, core):
        update = fake.message(ANA, "It went well")
        update["update_id"] = 9001
        assert await fake.push_webhook(update) == 200
    [message] = core.messages
    assert (message.event_id, message.text) == ("9001", "It went well")
    assert fake.last_text(ANA) == "Got it"


@pytest.mark.parametrize("secret", ["", "a-long-random-webhook-secreT", "wrong"])
async def test_a_wrong_or_missing_secret_is_refused_and_nothing_reaches_the_core(
    fake: FakeTelegramAPI, services: Services, secret: str
) -> None:
    core = Recorder()
    async with webhook_channel(fake, services, core):
        assert await fake.push_webhook(fake.message(ANA, "let me in"), secret=secret) == 403
    assert core.messages == []
    assert fake.chat(ANA) == []


async def test_an_update_the_core_fails_on_gets_a_500_so_telegram_sends_it_again(
    fake: FakeTelegramAPI, services: Services
) -> None:
    def broken(message: object) -> object:
        raise RuntimeError("database is down")

    async with webhook_channel(fake, services, Recorder(answer=broken)):  # type: ignore[arg-type]
        assert await fake.push_webhook(fake.message(ANA, "It went well")) == 500
    assert fake.chat(ANA) == []
