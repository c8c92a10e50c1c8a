"""`carbot run` with a half-configured channel, or a setting given blank, says what is wrong in
one line and exits 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.settings import get_settings

CASES = [
    ({"CARBOT_SLACK_BOT_TOKEN": "xoxb-1"}, "CARBOT_SLACK_APP_TOKEN"),
    (
        {"CARBOT_SLACK_BOT_TOKEN": "xoxb-1", "CARBOT_SLACK_MODE": "http"},
        "CARBOT_SLACK_SIGNING_SECRET",
    ),
    ({"CARBOT_SLACK_APP_TOKEN": "xapp-1"}, "CARBOT_SLACK_BOT_TOKEN"),
    (
        {"CARBOT_TELEGRAM_TOKEN": "1:abc", "CARBOT_TELEGRAM_MODE": "webhook"},
        "CARBOT_TELEGRAM_WEBHOOK_SECRET",
    ),
    (
        {
            "CARBOT_SLACK_BOT_TOKEN": "xoxb-1",
            "CARBOT_SLACK_MODE": "http",
            "CARBOT_SLACK_SIGNING_SECRET": "   ",
        },
        "CARBOT_SLACK_SIGNING_SECRET is set but only spaces",
    ),
    ({"CARBOT_TELEGRAM_TOKEN": ""}, "CARBOT_TELEGRAM_TOKEN is set but empty"),
    (
        {
            "CARBOT_TELEGRAM_TOKEN": "1:abc",
            "CARBOT_TELEGRAM_MODE": "webhook",
            "CARBOT_TELEGRAM_WEBHOOK_SECRET": "\t \n",
        },
        "CARBOT_TELEGRAM_WEBHOOK_SECRET is set but only spaces",
    ),
    ({"CARBOT_PUBLIC_URL": " "}, "CARBOT_PUBLIC_URL is set but only spaces"),
]


@pytest.mark.parametrize(("env", "missing"), CASES)
def test_run_with_a_half_configured_channel_names_the_missing_setting_and_exits_2(
    tmp_path, monkeypatch, request, env, missing
):
    request.addfinalizer(get_settings.cache_clear)
    monkeypatch.setenv("CARBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    for name in (
        "CARBOT_SLACK_BOT_TOKEN",
        "CARBOT_SLACK_APP_TOKEN",
        "CARBOT_SLACK_SIGNING_SECRET",
        "CARBOT_SLACK_MODE",
        "CARBOT_TELEGRAM_TOKEN",
        "CARBOT_TELEGRAM_MODE",
        "CARBOT_TELEGRAM_WEBHOOK_SECRET",
        "CARBOT_PUBLIC_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    get_settings.cache_clear()

    result = CliRunner().invoke(main, ["run"])

    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("carbot run: ")
    assert missing in lines[0]
    assert "Traceback" not in result.output
