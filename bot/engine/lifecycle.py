"""After a prompt is sent: one gentle reminder, then expiry when its answer window ends.

``remind_once`` claims each due reminder by moving the delivery ``sent → reminded`` with a
conditional UPDATE *before* sending, so two workers can never both remind: at most one reminder
per prompt holds even across crashes. The price is that a worker killed between that claim and
the platform call loses the reminder — reminders are a courtesy, duplicates are a burden. A
transient failure puts the delivery back to ``sent`` with a later reminder time (if the answer
window allows); a permanent one marks the identity unreachable and drops the reminder.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from adapters.base import Channel, DeliveryError
from bot.core.onboarding import outdated_consent
from bot.engine.availability import consent_of, judge, pattern_for
from bot.engine.deliveries import move, move_many
from bot.engine.sending import Timer, mark_unreachable, outbound_prompt, recipient, retry_delay
from bot.services import Services
from prompts.schedule import WorkingPattern, next_working_moment
from prompts.verdict import Decision
from storage.db import transaction
from storage.models import ChannelIdentity, Delivery, Project

log = logging.getLogger(__name__)


def _remindable(now: datetime) -> list[Any]:
    return [
        Delivery.status == "sent",
        Delivery.reminded_at.is_(None),
        Delivery.remind_at <= now,
        or_(Delivery.expires_at.is_(None), Delivery.expires_at > now),
    ]


async def remind_once(
    services: Services,
    channels: Mapping[str, Channel],
    now: datetime,
    *,
    worker: str,
    limit: int = 100,
    stop: asyncio.Event | None = None,
) -> int:
    """Send the one gentle reminder of every sent prompt whose reminder time has come (what is
    written after ``now`` is dated by ``services.clock``)."""
    async with services.sessions() as session:
        ids = list(
            await session.scalars(
                select(Delivery.id)
                .where(*_remindable(now))
                .order_by(Delivery.remind_at, Delivery.id)
                .limit(limit)
            )
        )
    timer = Timer(now, services.clock)
    reminded = 0
    for delivery_id in ids:
        if stop is not None and stop.is_set():
            break
        if await _remind(services, channels, delivery_id, now, timer, worker):
            reminded += 1
    return reminded


async def _remind(
    services: Services,
    channels: Mapping[str, Channel],
    delivery_id: int,
    now: datetime,
    timer: Timer,
    worker: str,
) -> bool:
    claimed_at = timer.now()
    zone = services.settings.default_timezone
    async with transaction(services.sessions) as session:
        if not await move(
            session,
            delivery_id,
            "reminded",
            "reminding",
            claimed_at,
            where=_remindable(now),
            values={"reminded_at": claimed_at},
        ):
            return False  # answered, expired, or another worker took it
    claimed = [Delivery.reminder_ref.is_(None), Delivery.reminded_at == claimed_at]
    no_reminder = {"reminded_at": None, "remind_at": None}
    async with services.sessions() as session:
        delivery = (
            await session.scalars(
                select(Delivery)
                .where(Delivery.id == delivery_id)
                .options(
                    selectinload(Delivery.person),
                    selectinload(Delivery.project).selectinload(Project.partnership),
                    selectinload(Delivery.phase),
                )
            )
        ).one()
        identity = (
            await session.get(ChannelIdentity, delivery.identity_id)
            if delivery.identity_id is not None
            else None
        )
        # A person asked to agree to a new consent version gets no reminder until they agree.
        outdated = await outdated_consent(session, delivery.person) is not None
        consent = consent_of(delivery.person, outdated=outdated)
        decided = judge(
            delivery.person, delivery.project, delivery.slot, claimed_at,
            zone=zone, due=delivery.due_at, consent=consent,
        )  # fmt: skip
        if (
            identity is None
            or identity.status != "active"
            or identity.channel not in channels
            or decided.decision is not Decision.SEND
        ):
            async with transaction(services.sessions) as write:
                await move(
                    write,
                    delivery_id,
                    "sent",
                    "no_reminder",
                    timer.now(),
                    where=claimed,
                    values=no_reminder,
                )
            return False
        prompt = outbound_prompt(delivery, reminder=True)
        to = recipient(identity)
        channel = channels[identity.channel]
        expires = delivery.expires_at
        pattern = pattern_for(delivery.person, delivery.project, zone)
    try:
        ref = await channel.send_prompt(to, prompt)
    except Exception as exc:
        error = exc if isinstance(exc, DeliveryError) else DeliveryError(repr(exc))
        if not isinstance(exc, DeliveryError):
            log.exception("delivery %s: unexpected error sending its reminder", delivery_id)
        await _reminder_failed(
            services, delivery_id, identity.id, claimed, expires, pattern, timer, error
        )
        return False
    async with transaction(services.sessions) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.reminder_ref.is_(None))
            .values(reminder_ref=ref.ref)
        )
    log.info(
        "delivery %s reminded",
        delivery_id,
        extra={"action": "delivery.reminded", "delivery_id": delivery_id, "worker": worker},
    )
    return True


async def _reminder_failed(
    services: Services,
    delivery_id: int,
    identity_id: int,
    claimed: Sequence[Any],
    expires: datetime | None,
    pattern: WorkingPattern,
    timer: Timer,
    exc: DeliveryError,
) -> None:
    now = timer.now()
    error = str(exc)[:1000] or exc.__class__.__name__
    values: dict[str, Any] = {"reminded_at": None, "last_error": error}
    if exc.permanent:
        values["remind_at"] = None
    else:
        retry = now + timedelta(seconds=retry_delay(1, exc.retry_after))
        retry = next_working_moment(retry, pattern) or retry  # a reminder waits for work hours
        values["remind_at"] = retry if expires is None or retry < expires else None
    async with transaction(services.sessions) as session:
        if exc.permanent:
            await mark_unreachable(session, identity_id, error)
        await move(session, delivery_id, "sent", "no_reminder", now, where=claimed, values=values)
    log.warning(
        "delivery %s: reminder failed (%s)",
        delivery_id,
        "permanent" if exc.permanent else "transient",
        extra={"action": "delivery.remind_failed", "delivery_id": delivery_id},
    )


async def expire_once(services: Services, now: datetime) -> int:
    """Close every sent or reminded prompt whose answer window has ended; returns how many."""
    async with transaction(services.sessions) as session:
        expired = await move_many(
            session,
            [Delivery.expires_at.is_not(None), Delivery.expires_at <= now],
            "expired",
            "expired",
            now,
        )
    if expired:
        log.info("%d prompt(s) expired", expired, extra={"action": "delivery.expired"})
    return expired
