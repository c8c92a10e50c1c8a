"""``carbot people`` and ``carbot webchat``: sign-up codes and personal web chat links."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import with_services
from bot.core.onboarding import issue_link_code
from bot.services import Services
from bot.web.webchat import chat_url, issue_webchat_link, revoke_webchat
from storage.db import transaction
from storage.models import CHANNELS, AuditLog, Person

log = logging.getLogger(__name__)


async def _person(session: AsyncSession, key: str) -> Person:
    person = await session.scalar(select(Person).where(Person.key == key))
    if person is None:
        raise click.ClickException(f"No person with the key {key!r} (see the study file).")
    if not person.active:
        raise click.ClickException(f"{key!r} is no longer active in the study.")
    return person


@click.group()
def people() -> None:
    """Sign people up to chat channels."""


@people.command("link-code")
@click.argument("person_key")
@click.option(
    "--channel",
    type=click.Choice(CHANNELS),
    default=None,
    help="Only accept the code on this channel (default: any channel).",
)
@click.option(
    "--days", type=click.IntRange(1, 90), default=7, show_default=True, help="Days it stays valid."
)
@with_services
async def link_code(services: Services, person_key: str, channel: str | None, days: int) -> None:
    """Make a one-time sign-up code for PERSON_KEY.

    The person sends it to the bot: on Telegram by opening the printed link (or `/start CODE`),
    on Slack with `/carbot link CODE` or a DM saying `link CODE`. Only a hash of the code is
    stored; it works once, within --days.
    """
    now = datetime.now(UTC)
    async with transaction(services.sessions) as session:
        person = await _person(session, person_key)
        code = await issue_link_code(
            session, person, channel=channel, ttl=timedelta(days=days), now=now
        )
        session.add(AuditLog(at=now, actor="cli", action="people.link_code", target=person.key))
    click.echo(f"Sign-up code for {person.name}: {code}  (valid {days} days, works once)")
    username = services.settings.telegram_bot_username
    if username and channel in (None, "telegram"):
        click.echo(f"Telegram: https://t.me/{username.lstrip('@')}?start={code}")
    if channel in (None, "slack"):
        click.echo(f"Slack: send the carbot app `link {code}`")


@click.group()
def webchat() -> None:
    """Personal web chat links: make one, or switch one off."""


@webchat.command("link")
@click.argument("person_key")
@with_services
async def webchat_link(services: Services, person_key: str) -> None:
    """Print a new personal web chat link for PERSON_KEY.

    Anyone with the link can chat as that person, so send it to them privately. Making a new
    link switches off their previous one; only a hash of the link is stored.
    """
    now = datetime.now(UTC)
    async with transaction(services.sessions) as session:
        person = await _person(session, person_key)
        token = await issue_webchat_link(session, person, now=now)
        session.add(AuditLog(at=now, actor="cli", action="webchat.link", target=person.key))
    click.echo(chat_url(services.settings, token))


@webchat.command("revoke")
@click.argument("person_key")
@with_services
async def webchat_revoke(services: Services, person_key: str) -> None:
    """Switch off PERSON_KEY's web chat link (the page then answers 404)."""
    now = datetime.now(UTC)
    async with transaction(services.sessions) as session:
        person = await session.scalar(select(Person).where(Person.key == person_key))
        if person is None:
            raise click.ClickException(f"No person with the key {person_key!r}.")
        count = await revoke_webchat(session, person, now=now)
        session.add(AuditLog(at=now, actor="cli", action="webchat.revoke", target=person.key))
    click.echo(f"Switched off {count} web chat link(s) for {person.name}.")
