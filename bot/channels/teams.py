"""Teams on carbot's side: settings → the channel, its configuration problems, the optional
link-by-email (the adapter asks Teams for the email; the database is touched here), and the
``carbot teams`` commands. Everything app-side about Teams lives in this one module; the SDK is
imported only when the channel is built or a ``carbot teams`` command runs.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from adapters.base import Channel, OutboundText
from adapters.teams.config import TeamsConfig
from bot.channels import ChannelPlugin, email_link
from bot.services import Services
from bot.settings import Settings, get_settings

log = logging.getLogger(__name__)


def teams_config(settings: Settings) -> TeamsConfig | None:
    """The channel's configuration, or None when none of its three settings is set."""
    secret = settings.teams_app_secret
    if settings.teams_app_id is None and secret is None and settings.teams_tenant_id is None:
        return None
    return TeamsConfig(
        app_id=settings.teams_app_id or "",
        app_secret=secret.get_secret_value() if secret is not None else "",
        tenant_id=settings.teams_tenant_id or "",
        service_url=settings.teams_service_url,
        login_url=settings.teams_login_url,
        openid_url=settings.teams_openid_url,
        token_issuer=settings.teams_token_issuer,
        max_upload_bytes=settings.max_upload_bytes,
        link_by_email=settings.teams_link_by_email,
    )


def problems(settings: Settings) -> list[str]:
    """What a half-configured Teams channel lacks, one sentence each; empty when all is well."""
    config = teams_config(settings)
    return config.problems() if config is not None else []


def teams_channel(services: Services) -> Channel | None:
    """The Teams channel when its settings are present; None otherwise."""
    config = teams_config(services.settings)
    if config is None:
        return None
    from adapters.teams import TeamsChannel  # the SDK, imported only now

    async def link(email: str, conversation: str, tenant: str) -> OutboundText | None:
        return await link_by_email(services, email, conversation, tenant)

    log.info("Teams channel configured (app %s)", config.app_id)
    return TeamsChannel(config, email_linker=link)


async def link_by_email(
    services: Services, email: str, conversation: str, tenant: str
) -> OutboundText | None:
    """Link the Teams chat ``conversation`` to the active person with ``email`` (no Teams
    identity yet); the greeting to send, or None when nobody matched."""
    linked = await email_link.link_by_email(
        services,
        email,
        channel="teams",
        shown_as="Teams",
        workspace=tenant,
        external_id=conversation,
        now=services.clock.now(),
    )
    return linked.greeting if linked is not None else None


# ── carbot teams ───────────────────────────────────────────────────────────────────────────


@click.group()
def teams() -> None:
    """Microsoft Teams: write the app package, check the app's credentials."""


@teams.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("carbot-teams.zip"),
    show_default=True,
    help="Where to write the app package.",
)
@click.option(
    "--public-url", default=None, help="HTTPS base URL of carbot. Default: CARBOT_PUBLIC_URL."
)
@click.option(
    "--version",
    "app_version",
    default="1.0.0",
    show_default=True,
    help="The package's version; raise it for each upload.",
)
def manifest(output: Path, public_url: str | None, app_version: str) -> None:
    """Write the Teams app package (manifest.json and icons, zipped) to upload in the Teams
    admin centre or as a custom app."""
    settings = get_settings()
    if settings.teams_app_id is None:
        raise click.UsageError("set CARBOT_TEAMS_APP_ID (the bot's Microsoft app id) first")
    from adapters.teams import app_package

    try:
        data = app_package(
            settings.teams_app_id, public_url or settings.public_url, version=app_version
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    output.write_bytes(data)
    click.echo(f"wrote {output} ({len(data)} bytes): upload it in Teams as a custom app")


@teams.command()
def check() -> None:
    """Ask Entra ID for a bot token with the app id, secret and tenant: are they right?"""
    config = teams_config(get_settings())
    if config is None or config.problems():
        raise click.UsageError(
            "; ".join(config.problems() if config is not None else [])
            or "set CARBOT_TEAMS_APP_ID, CARBOT_TEAMS_APP_SECRET and CARBOT_TEAMS_TENANT_ID"
        )
    from adapters.teams import check_credentials

    problem = asyncio.run(check_credentials(config))
    if problem is not None:
        raise click.ClickException(problem)
    click.echo(f"Teams credentials work: app {config.app_id} in tenant {config.tenant_id}")


PLUGIN = ChannelPlugin(
    name="teams",
    build=teams_channel,
    problems=problems,
    commands=lambda: (teams,),
)
