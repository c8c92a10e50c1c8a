from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings, settings_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_documented_in_the_readme_exactly_as_declared() -> None:
    readme = README.read_text(encoding="utf-8")
    table = settings_table()
    assert table in readme, (
        "The README settings table differs from bot/settings.py; "
        "regenerate it with: .venv/bin/python -m bot.settings"
    )


def test_every_setting_has_a_description() -> None:
    missing = [name for name, f in Settings.model_fields.items() if not f.description]
    assert missing == []


def test_settings_default_to_sqlite_under_var_and_no_tokens() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url.startswith("sqlite+aiosqlite:///var/")
    assert settings.telegram_token is None
    assert settings.slack_bot_token is None
    assert settings.smtp_host is None
    assert settings.default_timezone == "Europe/London"


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBOT_WEB_PORT", "8123")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://db/carbot")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.web_port == 8123
    assert settings.database_url == "postgresql+asyncpg://db/carbot"


def test_an_unknown_default_time_zone_is_refused_with_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CARBOT_DEFAULT_TIMEZONE", "Europe/Atlantis")
    with pytest.raises(ValidationError, match="Europe/Atlantis"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_a_blank_or_whitespace_setting_is_named_and_a_real_value_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.settings import blank_settings

    monkeypatch.setenv("CARBOT_SLACK_SIGNING_SECRET", "   ")
    monkeypatch.setenv("CARBOT_SMTP_HOST", "")
    monkeypatch.setenv("CARBOT_SLACK_BOT_TOKEN", "xoxb-1")
    problems = blank_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert problems == [
        "CARBOT_SMTP_HOST is set but empty; give it a value or unset it",
        "CARBOT_SLACK_SIGNING_SECRET is set but only spaces; give it a value or unset it",
    ]
    assert blank_settings(Settings(_env_file=None, slack_signing_secret="s3cret")) == [  # type: ignore[call-arg]
        "CARBOT_SMTP_HOST is set but empty; give it a value or unset it"
    ]
