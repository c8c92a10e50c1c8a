"""``carbot slack``: the Slack app manifest, and linking Slack users to people by email."""

from __future__ import annotations

import click

from adapters.slack.scopes import manifest_text
from bot.cli import run_async
from bot.settings import get_settings


@click.group()
def slack() -> None:
    """Slack: print the app manifest, link people by their Slack email."""


@slack.command()
@click.option(
    "--mode",
    type=click.Choice(["socket", "http"]),
    default=None,
    help="Socket Mode (no inbound port) or HTTP events. Default: CARBOT_SLACK_MODE.",
)
@click.option(
    "--public-url",
    default=None,
    help="HTTPS base URL Slack posts to in HTTP mode. Default: CARBOT_PUBLIC_URL.",
)
def manifest(mode: str | None, public_url: str | None) -> None:
    """Print the Slack app manifest (YAML) to paste into "Create New App → From a manifest"."""
    settings = get_settings()
    mode = mode or settings.slack_mode
    try:
        text = manifest_text(mode, public_url or settings.public_url)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(text, nl=not text.endswith("\n"))


@slack.command("link-by-email")
def link_by_email() -> None:
    """Link people to their Slack accounts by email (needs CARBOT_SLACK_LINK_BY_EMAIL=true)
    and greet each newly linked person with the consent question in a DM."""
    from bot.channels.slack_link import link_slack_by_email_now

    settings = get_settings()
    if not settings.slack_link_by_email:
        raise click.UsageError("set CARBOT_SLACK_LINK_BY_EMAIL=true to link people by email")
    if settings.slack_bot_token is None:
        raise click.UsageError("set CARBOT_SLACK_BOT_TOKEN first")
    linked = run_async(link_slack_by_email_now(settings))
    click.echo(f"linked {linked} {'person' if linked == 1 else 'people'} by Slack email")
