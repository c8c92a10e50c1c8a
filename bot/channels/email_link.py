"""Linking a person to a chat account found by their email address, for every channel that can.

A channel's adapter finds the account (Slack: ``users.lookupByEmail`` for each unlinked person;
Teams: the email of someone who just installed the app); :func:`link_by_email` stores the
:class:`ChannelIdentity` for the active person with that email who has no identity on that
channel yet, and returns the greeting to send — with the consent question when they have not
consented yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from adapters.base import OutboundText
from bot.core import texts
from bot.core.onboarding import consent_request
from bot.core.people import active_consent
from bot.services import Services
from storage.models import ChannelIdentity, Person

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Linked:
    """A person just linked by email: who, their new identity, and what to greet them with."""

    person_id: int
    identity_id: int
    greeting: OutboundText


def linkable(channel: str) -> tuple[Any, ...]:
    """The conditions on :class:`Person` for someone who may be linked on ``channel``: active,
    taking part, and not linked there yet."""
    linked = select(ChannelIdentity.person_id).where(ChannelIdentity.channel == channel)
    return (Person.active.is_(True), Person.withdrawn_at.is_(None), Person.id.not_in(linked))


async def link_by_email(
    services: Services,
    email: str,
    *,
    channel: str,
    shown_as: str,
    workspace: str,
    external_id: str,
    now: datetime,
) -> Linked | None:
    """Link the account ``external_id`` (in ``workspace``) on ``channel`` to the person with
    ``email``; None when nobody may be linked to it, or the account is someone else's already.
    ``shown_as`` is the channel's name in the greeting ("Slack")."""
    try:
        async with services.sessions() as session, session.begin():
            person = await session.scalar(
                select(Person)
                .where(func.lower(Person.email) == email.strip().lower(), *linkable(channel))
                .order_by(Person.id)
                .limit(1)
            )
            if person is None:
                return None
            identity = ChannelIdentity(
                person_id=person.id,
                channel=channel,
                workspace=workspace,
                external_id=external_id,
                status="active",
                linked_at=now,
            )
            session.add(identity)
            await session.flush()
            hello = texts.LINKED.format(name=person.name, channel=shown_as)
            if await active_consent(session, person) is None:
                greeting = await consent_request(session, hello + " " + texts.NEEDS_CONSENT)
            else:
                greeting = OutboundText(hello)
            linked = Linked(person.id, identity.id, greeting)
    except IntegrityError:
        log.info("the %s account found by email is linked to someone else already", shown_as)
        return None
    log.info(
        "linked person %s to %s by email",
        linked.person_id,
        shown_as,
        extra={"action": f"{channel}_link_email"},
    )
    return linked
