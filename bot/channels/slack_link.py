"""Sign-up by Slack email: link people to their Slack accounts without a link code.

When ``CARBOT_SLACK_LINK_BY_EMAIL`` is on, :meth:`EmailLinker.run` looks up, for each active
person with an email address and no Slack identity yet, the Slack user with that email
(``users.lookupByEmail``, through the adapter), stores the :class:`ChannelIdentity`, and greets
them in a DM — with the consent question when they have not consented yet. The adapter only
asks Slack; the database is touched here. An address Slack does not know is asked again after
``retry_after`` (people join workspaces later), not on every tick.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adapters.base import DeliveryError, OutboundText, Recipient
from bot.core import texts
from bot.core.onboarding import consent_request
from bot.core.people import active_consent
from bot.services import Services
from bot.settings import Settings
from storage.models import ChannelIdentity, Person

if TYPE_CHECKING:
    from adapters.slack import SlackChannel

log = logging.getLogger(__name__)


class EmailLinker:
    """One worker's email-linking step (``run(now) -> int``, the number of people linked)."""

    def __init__(
        self,
        services: Services,
        channel: SlackChannel,
        *,
        retry_after: timedelta = timedelta(hours=6),
    ) -> None:
        self.services = services
        self.channel = channel
        self.retry_after = retry_after
        self._not_found: dict[int, datetime] = {}  # person id → when Slack last said no

    async def _unlinked(self, now: datetime) -> list[tuple[int, str]]:
        async with self.services.sessions() as session:
            linked = select(ChannelIdentity.person_id).where(ChannelIdentity.channel == "slack")
            rows = await session.execute(
                select(Person.id, Person.email)
                .where(
                    Person.active.is_(True),
                    Person.withdrawn_at.is_(None),
                    Person.email.is_not(None),
                    Person.id.not_in(linked),
                )
                .order_by(Person.id)
            )
            people = [(int(pid), str(email)) for pid, email in rows if email]
        return [
            (pid, email)
            for pid, email in people
            if now - self._not_found.get(pid, now - self.retry_after) >= self.retry_after
        ]

    async def run(self, now: datetime) -> int:
        if not self.services.settings.slack_link_by_email:
            return 0
        linked = 0
        for person_id, email in await self._unlinked(now):
            try:
                found = await self.channel.lookup_email(email)
            except DeliveryError as exc:
                log.warning("Slack email lookup failed for person %s: %s", person_id, exc)
                if exc.retry_after is not None:
                    break  # rate-limited: the next run carries on
                continue
            if found is None:
                self._not_found[person_id] = now
                continue
            self._not_found.pop(person_id, None)
            if await self._link(person_id, found, now):
                linked += 1
        return linked

    async def _link(self, person_id: int, found: tuple[str | None, str], now: datetime) -> bool:
        team, user = found
        try:
            async with self.services.sessions() as session, session.begin():
                person = await session.get(Person, person_id)
                if person is None:
                    return False
                identity = ChannelIdentity(
                    person_id=person.id,
                    channel="slack",
                    workspace=team or "",
                    external_id=user,
                    status="active",
                    linked_at=now,
                )
                session.add(identity)
                await session.flush()
                hello = texts.LINKED.format(name=person.name, channel="Slack")
                if await active_consent(session, person) is None:
                    greeting = await consent_request(session, hello + " " + texts.NEEDS_CONSENT)
                else:
                    greeting = OutboundText(hello)
                identity_id = identity.id
        except IntegrityError:
            log.info("Slack user of person %s is linked to someone else already", person_id)
            return False
        log.info(
            "linked person %s to Slack by email", person_id, extra={"action": "slack_link_email"}
        )
        try:
            await self.channel.send_text(Recipient(identity_id, user, team), greeting)
        except DeliveryError as exc:
            log.warning("could not greet newly linked person %s on Slack: %s", person_id, exc)
        return True


async def link_slack_by_email_now(settings: Settings, now: datetime | None = None) -> int:
    """Run the email linking once (``carbot slack link-by-email``)."""
    from datetime import UTC

    from bot.channels.slack import slack_channel

    services = Services.from_settings(settings)
    channel = slack_channel(services)
    if channel is None:
        await services.close()
        return 0
    try:
        return await EmailLinker(services, channel).run(now or datetime.now(UTC))
    finally:
        await channel.stop()
        await services.close()
