"""``carbot telegram``: commands for BotFather, setMyCommands, the webhook, a token check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from adapters.telegram import COMMANDS
from bot.channels.telegram_cli import telegram
from bot.settings import get_settings
from tests.fakes.telegram_api import FakeTelegramAPI


@pytest.fixture
def fake_in_thread() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI().in_thread() as fake:
        yield fake


def invoke(args: list[str], fake: FakeTelegramAPI | None = None, **env: str) -> Result:
    get_settings.cache_clear()
    values = dict(env)
    if fake is not None:
        values.setdefault("CARBOT_TELEGRAM_TOKEN", fake.token)
        values.setdefault("CARBOT_TELEGRAM_API_BASE_URL", fake.base_url)
    return CliRunner().invoke(telegram, args, env=values)


def test_the_command_list_for_botfather_has_every_command_once() -> None:
    result = invoke(["commands"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert lines[0] == "help - What I can do and how to answer"
    assert [line.split(" - ")[0] for line in lines] == [c.name for c in COMMANDS]
    assert {c.name for c in COMMANDS} == {
        "help", "note", "pause", "resume", "snooze", "skip", "edit", "undo", "audience",
        "status", "mydata", "time", "stop",
    }  # fmt: skip


def test_set_commands_sends_the_same_list_to_telegram(fake_in_thread: FakeTelegramAPI) -> None:
    result = invoke(["set-commands"], fake_in_thread)
    assert result.exit_code == 0, result.output
    assert "Set 13 commands for @carbot_test_bot" in result.output
    assert fake_in_thread.commands == [
        {"command": c.name, "description": c.description} for c in COMMANDS
    ]


def test_check_names_the_bot_and_says_it_will_poll(fake_in_thread: FakeTelegramAPI) -> None:
    result = invoke(["check"], fake_in_thread)
    assert result.exit_code == 0, result.output
    assert "this is @carbot_test_bot" in result.output
    assert "https://t.me/carbot_test_bot?start=CODE" in result.output
    assert "poll" in result.output


def test_a_missing_token_gets_a_clear_message() -> None:
    result = invoke(["set-commands"])
    assert result.exit_code != 0
    assert "CARBOT_TELEGRAM_TOKEN is not set" in result.output


def test_a_refused_token_says_what_telegram_said(fake_in_thread: FakeTelegramAPI) -> None:
    result = invoke(["check"], fake_in_thread, CARBOT_TELEGRAM_TOKEN="999:wrong")
    assert result.exit_code != 0
    assert "Telegram said" in result.output


def test_webhook_set_and_delete(fake_in_thread: FakeTelegramAPI) -> None:
    refused = invoke(["webhook", "set"], fake_in_thread)
    assert refused.exit_code != 0 and "CARBOT_TELEGRAM_WEBHOOK_SECRET" in refused.output
    result = invoke(
        ["webhook", "set"],
        fake_in_thread,
        CARBOT_TELEGRAM_WEBHOOK_SECRET="s3cret-s3cret",
        CARBOT_PUBLIC_URL="https://carbot.example.org",
    )
    assert result.exit_code == 0, result.output
    assert fake_in_thread.webhook_url == "https://carbot.example.org/telegram/webhook"
    assert fake_in_thread.webhook_secret == "s3cret-s3cret"
    assert invoke(["webhook", "delete"], fake_in_thread).exit_code == 0
    assert fake_in_thread.webhook_url == ""


def test_every_telegram_command_has_help() -> None:
    for args in (
        ["--help"],
        ["commands", "--help"],
        ["set-commands", "--help"],
        ["check", "--help"],
        ["webhook", "set", "--help"],
        ["webhook", "delete", "--help"],
    ):
        result = invoke(args)
        assert result.exit_code == 0 and "Usage" in result.output
