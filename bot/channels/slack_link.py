"""Sign-up by Slack email: link people to their Slack accounts without a link code.

When ``CARBOT_SLACK_LINK_BY_EMAIL`` is on, :meth:`EmailLinker.run` looks up, for each active
person with an email address and no Slack identity yet, the Slack user with that email
(``users.lookupByEmail``, through the adapter), links them (:mod:`bot.channels.email_link`), and
greets them in a DM — with the consent question when they have not consented yet. The adapter
only asks Slack; the database is touched on carbot's side. An address Slack does not know is
asked again after ``retry_after`` (people join workspaces later), not on every tick.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from adapters.base import DeliveryError, Recipient
from bot.channels.email_link import link_by_email, linkable
from bot.services import Services
from bot.settings import Settings
from storage.models import Person

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
            rows = await session.execute(
                select(Person.id, Person.email)
                .where(Person.email.is_not(None), *linkable("slack"))
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
            if await self._link(email, found, now):
                linked += 1
        return linked

    async def _link(self, email: str, found: tuple[str | None, str], now: datetime) -> bool:
        team, user = found
        linked = await link_by_email(
            self.services,
            email,
            channel="slack",
            shown_as="Slack",
            workspace=team or "",
            external_id=user,
            now=now,
        )
        if linked is None:
            return False
        try:
            await self.channel.send_text(Recipient(linked.identity_id, user, team), linked.greeting)
        except DeliveryError as exc:
            log.warning(
                "could not greet newly linked person %s on Slack: %s", linked.person_id, exc
            )
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
