"""``carbot telegram``: connect a Telegram bot — commands for BotFather, webhook, a token check."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from telegram import Bot, BotCommand
from telegram.error import TelegramError

from adapters.telegram import COMMANDS, TelegramConfig, botfather_list, sign_up_link
from adapters.telegram.config import (
    ALLOWED_UPDATES,
    WEBHOOK_MOUNT,
    WEBHOOK_PATH,
    hide_token_from_logs,
)
from bot.cli import run_async
from bot.settings import Settings, get_settings

log = logging.getLogger(__name__)

T = TypeVar("T")


def _bot(settings: Settings) -> Bot:
    if settings.telegram_token is None:
        raise click.ClickException(
            "CARBOT_TELEGRAM_TOKEN is not set. Create a bot with @BotFather and put its token "
            "in CARBOT_TELEGRAM_TOKEN (environment or .env)."
        )
    config = TelegramConfig(
        token=settings.telegram_token.get_secret_value(),
        api_base_url=settings.telegram_api_base_url,
    )
    hide_token_from_logs()
    return Bot(config.token, base_url=config.api_base_url, base_file_url=config.file_base_url)


def _with_bot(action: Callable[[Bot], Awaitable[T]]) -> T:
    async def body() -> T:
        bot = _bot(get_settings())
        try:
            async with bot:
                return await action(bot)
        except TelegramError as exc:
            raise click.ClickException(f"Telegram said: {exc.message}") from exc

    return run_async(body())


@click.group()
def telegram() -> None:
    """Connect a Telegram bot: its command list, its webhook, a token check."""


@telegram.command("commands")
def commands() -> None:
    """Print the command list in the form BotFather's /setcommands asks for."""
    click.echo(botfather_list())


@telegram.command("set-commands")
def set_commands() -> None:
    """Send the command list to Telegram (setMyCommands), so the app shows it in the / menu."""

    async def send(bot: Bot) -> str:
        await bot.set_my_commands([BotCommand(c.name, c.description) for c in COMMANDS])
        return bot.username

    username = _with_bot(send)
    click.echo(f"Set {len(COMMANDS)} commands for @{username}.")


@telegram.command("check")
def check() -> None:
    """Check the token: print the bot's @username and how updates reach carbot."""

    async def ask(bot: Bot) -> tuple[str, str]:
        info = await bot.get_webhook_info()
        return bot.username, info.url

    username, webhook = _with_bot(ask)
    click.echo(f"The token works: this is @{username} (https://t.me/{username}).")
    click.echo(f"Sign-up links look like {sign_up_link(username, 'CODE')}")
    if webhook:
        click.echo(f"Updates go to the webhook {webhook}.")
    else:
        click.echo("No webhook is set: carbot run will poll for updates (the default).")
    settings = get_settings()
    if not settings.telegram_bot_username:
        click.echo(f"Tip: set CARBOT_TELEGRAM_BOT_USERNAME={username} for sign-up links.")


@telegram.group("webhook")
def webhook() -> None:
    """Point Telegram at carbot's webhook route, or back to polling."""


@webhook.command("set")
@click.option(
    "--url",
    default=None,
    help="Public HTTPS URL of the route (default: CARBOT_TELEGRAM_WEBHOOK_URL, else "
    f"CARBOT_PUBLIC_URL + {WEBHOOK_MOUNT}{WEBHOOK_PATH}).",
)
def webhook_set(url: str | None) -> None:
    """Tell Telegram to POST updates to carbot (with CARBOT_TELEGRAM_WEBHOOK_SECRET)."""
    settings = get_settings()
    if settings.telegram_webhook_secret is None:
        raise click.ClickException(
            "Set CARBOT_TELEGRAM_WEBHOOK_SECRET first (e.g. `openssl rand -hex 32`): "
            "carbot refuses webhook calls without it."
        )
    target = url or settings.telegram_webhook_url
    if not target:
        target = settings.public_url.rstrip("/") + WEBHOOK_MOUNT + WEBHOOK_PATH
    secret = settings.telegram_webhook_secret.get_secret_value()

    async def send(bot: Bot) -> None:
        await bot.set_webhook(
            url=target, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
        )

    _with_bot(send)
    click.echo(
        f"Telegram now sends updates to {target}. Run carbot with CARBOT_TELEGRAM_MODE=webhook."
    )


@webhook.command("delete")
def webhook_delete() -> None:
    """Remove the webhook, so that carbot can poll for updates again."""

    async def send(bot: Bot) -> None:
        await bot.delete_webhook()

    _with_bot(send)
    click.echo("Webhook removed: carbot run will poll for updates.")
