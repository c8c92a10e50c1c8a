"""Webhook mode: Telegram POSTs updates to a route on carbot's web app, with a secret header."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from adapters.telegram import TelegramChannel
from adapters.telegram.webhook import SECRET_HEADER
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


def _own_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Log records above DEBUG from carbot, the SDK and the server (not the test's HTTP client)."""
    return [
        r
        for r in caplog.records
        if r.levelno > logging.DEBUG and not r.name.startswith(("httpx", "aiohttp"))
    ]


JUNK: dict[str, tuple[bytes, str]] = {
    "not JSON": (b"my private words, not JSON", SECRET),
    "not UTF-8": (b'{"update_id": 5, "text": "\xff\xfe my private words"}', SECRET),
    "a JSON list": (b'[1, "my private words"]', SECRET),
    "no update_id": (b'{"message": {"text": "my private words"}}', SECRET),
    "a text update_id": (b'{"update_id": "5", "message": {"text": "my private words"}}', SECRET),
    "a message that is a string": (b'{"update_id": 5, "message": "my private words"}', SECRET),
    "a message without a chat": (
        b'{"update_id": 6, "message": {"message_id": 1, "date": 0, "text": "my private words"}}',
        SECRET,
    ),
    "a tap without its fields": (
        b'{"update_id": 7, "callback_query": {"id": "1", "data": "my private words"}}',
        SECRET,
    ),
    "a wrong secret": (b'{"update_id": 8, "message": {"text": "my private words"}}', "wrong"),
}


@pytest.mark.parametrize("case", list(JUNK))
async def test_junk_to_the_webhook_gets_a_4xx_and_one_log_line_without_content_or_traceback(
    fake: FakeTelegramAPI, services: Services, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    body, secret = JUNK[case]
    core = Recorder()
    async with webhook_channel(fake, services, core):
        caplog.set_level(logging.DEBUG)
        caplog.clear()
        async with httpx.AsyncClient() as http:
            response = await http.post(
                fake.webhook_url,
                content=body,
                headers={"Content-Type": "application/json", SECRET_HEADER: secret},
            )
        records = _own_records(caplog)
    assert 400 <= response.status_code < 500
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].exc_info is None
    assert "my private words" not in records[0].getMessage()
    assert core.messages == []


async def test_a_failing_update_is_logged_by_its_id_and_error_type_without_the_persons_words(
    fake: FakeTelegramAPI, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(message: object) -> object:
        raise RuntimeError("database is down")

    async with webhook_channel(fake, services, Recorder(answer=broken)):  # type: ignore[arg-type]
        caplog.set_level(logging.DEBUG)
        update = fake.message(ANA, "my private words")
        update["update_id"] = 4711
        assert await fake.push_webhook(update) == 500
        records = _own_records(caplog)
    [line] = [r for r in records if r.name == "adapters.telegram.webhook"]
    assert line.levelno == logging.ERROR
    assert "4711" in line.getMessage() and "RuntimeError" in line.getMessage()
    assert line.exc_info is None
    assert not any("my private words" in r.getMessage() for r in records)
