"""carbot's settings, declared once.

Every setting is read from the environment (prefix ``CARBOT_``) or from an optional ``.env`` file
in the working directory. The README's settings table is checked against this declaration by
``tests/test_settings.py``: add a setting here and a row there in the same commit.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CARBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # storage
    database_url: str = Field(
        "sqlite+aiosqlite:///var/carbot.db",
        validation_alias=AliasChoices("CARBOT_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of the database. SQLite by default; "
        "`postgresql+asyncpg://user@host/db` in production (`DATABASE_URL` is read too).",
    )
    data_dir: Path = Field(
        Path("var/data"),
        description="Where uploaded evidence (photos, files, voice notes) is kept.",
    )
    max_upload_bytes: int = Field(
        20 * 1024 * 1024, description="Largest evidence file accepted from any channel, in bytes."
    )

    # time
    default_timezone: str = Field(
        "Europe/London", description="Time zone for partnerships and people that do not name one."
    )
    demo_speed: float = Field(
        1.0,
        description="Demo clock: how many times faster than real time the scheduler's clock runs "
        "(1 = real time). Only for trying carbot out.",
    )

    # web app
    web_host: str = Field("127.0.0.1", description="Address the web app listens on.")
    web_port: int = Field(8000, description="Port the web app listens on.")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="Base URL people use to reach the web app (links in emails and chat).",
    )
    chromium: str | None = Field(
        None,
        description="Headless Chromium that prints context reports as PDF: a path or command. "
        "Unset: chromium, chromium-browser or google-chrome on PATH.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key that signs session cookies and web chat links. Unset: a random key "
        "is created once and kept in `secret_key` inside the data directory.",
    )

    # scheduling and dispatch
    scheduler_enabled: bool = Field(
        True, description="Run the planning, dispatch, reminder and digest jobs in `carbot run`."
    )
    dispatch_lease_seconds: int = Field(
        120,
        description="How long a worker may hold a claimed delivery before another may take it.",
    )
    dispatch_max_attempts: int = Field(
        5, description="Send attempts before a delivery is marked failed."
    )

    # mail
    smtp_host: str | None = Field(
        None, description="SMTP server for digests. Unset: digests are written to `var/outbox/`."
    )
    smtp_port: int = Field(587, description="SMTP port.")
    smtp_username: str | None = Field(None, description="SMTP user name, if the server needs one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="How to secure the SMTP connection: `starttls`, `ssl` or `none`."
    )
    mail_from: str = Field(
        "carbot <carbot@localhost>", description="From address of digest emails."
    )
    outbox_dir: Path = Field(
        Path("var/outbox"), description="Where digests are written as `.eml` files without SMTP."
    )
    digest_inline_photos: bool = Field(
        False,
        description="Embed evidence photos (up to 500 KB each, six per digest) in leads' digests "
        "as inline images. Off: digests only link to evidence in the review app.",
    )

    # Telegram
    telegram_token: SecretStr | None = Field(
        None, description="Telegram bot token from BotFather. Unset: no Telegram channel."
    )
    telegram_mode: Literal["polling", "webhook"] = Field(
        "polling", description="`polling` (no inbound port) or `webhook`."
    )
    telegram_webhook_url: str | None = Field(
        None, description="Public HTTPS URL of carbot's Telegram webhook route (webhook mode)."
    )
    telegram_webhook_secret: SecretStr | None = Field(
        None,
        description="Secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token` (webhook mode).",
    )
    telegram_api_base_url: str = Field(
        "https://api.telegram.org/bot",
        description="Bot API base URL (a local Bot API server or a test fake).",
    )
    telegram_bot_username: str | None = Field(
        None, description="The bot's @username, for sign-up deep links (read from getMe if unset)."
    )

    # Slack
    slack_bot_token: SecretStr | None = Field(
        None, description="Slack bot token (`xoxb-…`). Unset: no Slack channel."
    )
    slack_app_token: SecretStr | None = Field(
        None, description="Slack app-level token (`xapp-…`) for Socket Mode."
    )
    slack_signing_secret: SecretStr | None = Field(
        None, description="Slack signing secret, to verify requests in HTTP mode."
    )
    slack_mode: Literal["socket", "http"] = Field(
        "socket", description="`socket` (outbound only) or `http` (events to carbot's web app)."
    )
    slack_api_base_url: str = Field(
        "https://slack.com/api/", description="Slack Web API base URL (a test fake in tests)."
    )
    slack_link_by_email: bool = Field(
        False,
        description="Link Slack users to people by matching their Slack email "
        "(`users.lookupByEmail`).",
    )

    # Microsoft Teams
    teams_app_id: str | None = Field(
        None,
        description="Microsoft app (client) id of the Teams bot's Entra ID app registration. "
        "Unset: no Teams channel.",
    )
    teams_app_secret: SecretStr | None = Field(
        None, description="Client secret of that app registration."
    )
    teams_tenant_id: str | None = Field(
        None,
        description="Entra ID tenant (directory) id the single-tenant bot belongs to; "
        "activities from other tenants are ignored.",
    )
    teams_service_url: str = Field(
        "https://smba.trafficmanager.net/teams/",
        description="Bot Connector service that proactive Teams messages go to (a test fake in "
        "tests).",
    )
    teams_login_url: str = Field(
        "https://login.microsoftonline.com",
        description="Entra ID base URL whose `{tenant}/oauth2/v2.0/token` endpoint gives the "
        "bot its token.",
    )
    teams_openid_url: str = Field(
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        description="Bot Framework OpenID metadata; the signing keys beside it (`…/keys`) "
        "verify every inbound Teams request.",
    )
    teams_token_issuer: str = Field(
        "https://api.botframework.com",
        description="Issuer every inbound Teams request's token must name.",
    )
    teams_link_by_email: bool = Field(
        False,
        description="Link a person who installs the Teams app by their Entra ID email "
        "(matched against the study file's email).",
    )

    # logging
    log_level: str = Field("INFO", description="Log level: DEBUG, INFO, WARNING or ERROR.")

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


def blank_settings(settings: Settings) -> list[str]:
    """Settings given as an empty or whitespace-only value, one plain sentence each.

    ``CARBOT_SLACK_SIGNING_SECRET="   "`` is not a secret: treated as set, every request would
    fail later, so ``carbot run`` refuses it at start as it refuses a missing one.
    """
    problems: list[str] = []
    for name in Settings.model_fields:
        value = getattr(settings, name)
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(text, str) and not text.strip():
            shape = "only spaces" if text else "empty"
            problems.append(
                f"CARBOT_{name.upper()} is set but {shape}; give it a value or unset it"
            )
    return problems


@lru_cache
def get_settings() -> Settings:
    return Settings()


def _shown_default(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "unset"
    return f"`{value}`"


def settings_table() -> str:
    """The README's settings table, made from the declaration (``tests/test_settings.py``)."""
    lines = ["| variable | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        lines.append(
            f"| `CARBOT_{name.upper()}` | {_shown_default(field.default)} | {field.description} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(settings_table())
