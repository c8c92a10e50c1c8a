"""``carbot webchat``: make or switch off a person's personal web chat link."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy import select

from bot.channels.webchat import chat_url, issue_webchat_link, revoke_webchat
from bot.cli import with_services
from bot.cli.people import active_person
from bot.services import Services
from storage.db import transaction
from storage.models import AuditLog, Person


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
        person = await active_person(session, person_key)
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
