"""Teams on carbot's side: settings → the channel, its configuration problems, the optional
link-by-email (the adapter asks Teams for the email; the database is touched here), and the
``carbot teams`` commands. Everything app-side about Teams lives in this one module.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from adapters.base import Channel, OutboundText
from bot.core import texts
from bot.core.onboarding import consent_request
from bot.core.people import active_consent
from bot.services import Services
from bot.settings import Settings, get_settings
from storage.models import ChannelIdentity, Person

if TYPE_CHECKING:
    from adapters.teams import TeamsConfig

log = logging.getLogger(__name__)

_NEEDED = ("teams_app_id", "teams_app_secret", "teams_tenant_id")


def teams_config(settings: Settings) -> TeamsConfig | None:
    """The channel's configuration, or None when no Teams app id is set."""
    from adapters.teams import TeamsConfig  # the SDK is imported only when Teams is used

    if settings.teams_app_id is None or settings.teams_app_secret is None:
        return None
    return TeamsConfig(
        app_id=settings.teams_app_id,
        app_secret=settings.teams_app_secret.get_secret_value(),
        tenant_id=settings.teams_tenant_id or "",
        service_url=settings.teams_service_url,
        login_url=settings.teams_login_url,
        openid_url=settings.teams_openid_url,
        token_issuer=settings.teams_token_issuer,
        max_upload_bytes=settings.max_upload_bytes,
        link_by_email=settings.teams_link_by_email,
    )


def teams_problems(settings: Settings) -> list[str]:
    """What a half-configured Teams channel lacks, one sentence each; empty when all is well."""
    given = [name for name in _NEEDED if getattr(settings, name) is not None]
    if not given or len(given) == len(_NEEDED):
        return []
    missing = ", ".join(f"CARBOT_{name.upper()}" for name in _NEEDED if name not in given)
    return [f"Teams needs {missing} as well as the other CARBOT_TEAMS_* settings"]


def teams_channels(services: Services) -> list[Channel]:
    """[the Teams channel] when its settings are present; [] otherwise."""
    config = teams_config(services.settings)
    if config is None or not config.tenant_id:
        return []
    from adapters.teams import TeamsChannel

    async def link(email: str, conversation: str, tenant: str) -> OutboundText | None:
        return await link_by_email(services, email, conversation, tenant)

    log.info("Teams channel configured (app %s)", config.app_id)
    return [TeamsChannel(config, email_linker=link)]


async def link_by_email(
    services: Services, email: str, conversation: str, tenant: str
) -> OutboundText | None:
    """Link the Teams chat ``conversation`` to the active person with ``email`` (no Teams
    identity yet); the greeting to send, or None when nobody matched."""
    now = services.clock.now()
    try:
        async with services.sessions() as session, session.begin():
            linked = select(ChannelIdentity.person_id).where(ChannelIdentity.channel == "teams")
            person = await session.scalar(
                select(Person).where(
                    func.lower(Person.email) == email.strip().lower(),
                    Person.active.is_(True),
                    Person.withdrawn_at.is_(None),
                    Person.id.not_in(linked),
                )
            )
            if person is None:
                return None
            session.add(
                ChannelIdentity(
                    person_id=person.id,
                    channel="teams",
                    workspace=tenant,
                    external_id=conversation,
                    status="active",
                    linked_at=now,
                )
            )
            await session.flush()
            hello = texts.LINKED.format(name=person.name, channel="Teams")
            if await active_consent(session, person) is None:
                greeting = await consent_request(session, hello + " " + texts.NEEDS_CONSENT)
            else:
                greeting = OutboundText(hello)
            person_id = person.id
    except IntegrityError:
        log.info("a Teams chat is linked to someone else already")
        return None
    log.info("linked person %s to Teams by email", person_id, extra={"action": "teams_link_email"})
    return greeting


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
    settings = get_settings()
    problems = teams_problems(settings)
    config = teams_config(settings)
    if problems or config is None or not config.tenant_id:
        raise click.UsageError(
            "; ".join(problems)
            or "set CARBOT_TEAMS_APP_ID, CARBOT_TEAMS_APP_SECRET and CARBOT_TEAMS_TENANT_ID"
        )
    from adapters.teams import check_credentials

    problem = asyncio.run(check_credentials(config))
    if problem is not None:
        raise click.ClickException(problem)
    click.echo(f"Teams credentials work: app {config.app_id} in tenant {config.tenant_id}")
