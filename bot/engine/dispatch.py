"""Dispatch: claim due deliveries, send each through its person's channel, record the outcome.

A delivery moves ``planned → sending → sent`` (or back to ``planned`` after a transient failure,
or on to ``failed``, ``skipped`` or ``cancelled``). Every move is a conditional UPDATE that must
change exactly one row, so two workers can never both own a delivery:

- **Claim** (``bot.engine.leases``). On PostgreSQL one transaction selects due rows
  ``FOR UPDATE SKIP LOCKED`` and marks them ``sending`` with a lease (``lease_owner``,
  ``lease_until``); on SQLite each row is claimed by its own conditional UPDATE. Rows left
  ``sending`` by a worker that died are claimed again once their lease has run out.
- **Send.** The batch is read at once; each prompt goes to the person's best identity on a
  running channel. Just before the platform call the worker marks the row (conditionally: if
  the lease was lost, it does not send): the lease is renewed, so a slow batch never outlives
  it, and the attempt is counted — only the row being sent, so a worker killed while holding a
  batch costs the rest of the batch nothing, and a delivery that keeps killing its worker ends
  ``failed``. The answer window and reminder time are worked out then too.
- **Record.** Straight after the platform accepts, the message reference and ``sent_at`` go in
  one UPDATE in its own transaction, with nothing else to compute first. On SQLite that commit
  does not wait for an fsync (``synchronous=NORMAL`` for it alone): it survives a killed process
  as surely; only a power cut could undo it, and that would repeat the prompt, never lose it.

The one window this cannot close: a worker killed after the platform accepted a prompt and before
that commit leaves the delivery ``sending``; when its lease runs out another worker sends it
again (Slack first looks for the post in the DM, see ``OutboundPrompt.resend``). Chat platforms
offer no idempotency key, so carbot chooses at-least-once there — a rare duplicate prompt rather
than a silently lost one — and keeps the window as short as it can (measured in
``tests/engine/test_kills.py``). A clean shutdown (SIGTERM) never opens it: in-flight sends
finish and unsent claims are released.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import update

from adapters.base import Channel, DeliveryError, MessageRef, OutboundText, Recipient
from bot.core.onboarding import reconsent_request
from bot.engine.availability import consent_of, judge, own_phase, pattern_for
from bot.engine.claimed import Loaded, load_batch, outdated_consents, reachable_identities
from bot.engine.deliveries import called_off_status, move, move_statement, why
from bot.engine.leases import claim_due, release
from bot.engine.sending import (
    Timer,
    answer_times,
    mark_unreachable,
    outbound_prompt,
    recipient,
    retry_delay,
)
from bot.services import Services
from prompts.schedule import next_working_moment
from storage.db import is_sqlite, transaction
from storage.models import ChannelIdentity, Delivery

log = logging.getLogger(__name__)

NO_CHANNEL = "no reachable channel"


class DispatchBatch:
    """One claimed batch: read at once (:meth:`load`), then each delivery sent by :meth:`deliver`
    (one at a time or several at once; each keeps its own transactions)."""

    def __init__(
        self,
        services: Services,
        channels: Mapping[str, Channel],
        timer: Timer,
        worker: str,
    ) -> None:
        self.services = services
        self.channels = channels
        self.timer = timer
        self.worker = worker
        self.lease = timedelta(seconds=services.settings.dispatch_lease_seconds)
        self.max_attempts = services.settings.dispatch_max_attempts
        self.mine = [Delivery.lease_owner == worker]
        self.sqlite = is_sqlite(services.engine)
        self.cleared = {"lease_owner": None, "lease_until": None}
        self.zone = services.settings.default_timezone

    async def _commit_alone(self, statement: Any) -> bool:
        """Run one UPDATE in a transaction of its own, committed at once; True when it changed
        exactly one row. On SQLite the commit does not wait for an fsync (``synchronous=NORMAL``
        for it alone): a killed process cannot undo it (see the module text)."""
        async with self.services.engine.connect() as connection:
            if self.sqlite:
                await connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
            try:
                result = await connection.execute(statement)
                await connection.commit()
            finally:
                if self.sqlite:
                    await connection.exec_driver_sql("PRAGMA synchronous=FULL")
                    await connection.commit()
        return cast(int, getattr(result, "rowcount", 0)) == 1

    async def _settle(
        self, delivery_id: int, to: str, reason: str, values: Mapping[str, Any] | None = None
    ) -> None:
        async with transaction(self.services.sessions) as session:
            moved = await move(
                session,
                delivery_id,
                to,
                reason,
                self.timer.now(),
                expected_from="sending",
                where=self.mine,
                values=values,
            )
        if not moved:
            log.warning("delivery %s: lease lost before it could be marked %s", delivery_id, to)

    async def load(self, delivery_ids: list[int]) -> None:
        """Read the whole claimed batch at once (its rows are this worker's while leased)."""
        async with self.services.sessions() as session:
            self.loaded = await load_batch(session, delivery_ids)
            people = {loaded.person.id for loaded in self.loaded.values()}
            self.identities = await reachable_identities(session, people, self.channels)
            self.outdated: dict[int, OutboundText] = {}
            for person_id, old in (await outdated_consents(session, people)).items():
                self.outdated[person_id] = await reconsent_request(session, old)
        self.unreachable: set[int] = set()
        self.asked: set[int] = set()

    def _identity(self, person_id: int) -> ChannelIdentity | None:
        candidates = self.identities.get(person_id, [])
        return next((i for i in candidates if i.id not in self.unreachable), None)

    async def deliver(self, delivery_id: int) -> bool:
        """Send one claimed delivery; True when the platform accepted it."""
        now = self.timer.now()
        loaded = self.loaded.get(delivery_id)
        if loaded is None or loaded.delivery.lease_owner != self.worker:
            return False
        delivery, person, project = loaded.delivery, loaded.person, loaded.project
        if delivery.attempts >= self.max_attempts:  # sent again and again: workers died on it
            await self._settle(
                delivery_id,
                "failed",
                "gave_up",
                {"last_error": f"gave up after {self.max_attempts} attempts"},
            )
            log.error("delivery %s failed: every attempt to send it was cut short", delivery_id)
            return False
        consent = consent_of(person, outdated=person.id in self.outdated)
        decided = judge(
            person, project, delivery.slot, now, zone=self.zone, due=delivery.due_at,
            phases=own_phase(delivery), consent=consent,
        )  # fmt: skip
        if decided.called_off and decided.reason != "awaiting_consent":
            reason = decided.reason or ""
            status = called_off_status(reason)
            await self._settle(delivery_id, status, reason)
            log.info("delivery %s %s: %s", delivery_id, status, why(reason))
            return False
        expiry, _ = answer_times(delivery.due_at, project, person, self.zone)
        if expiry <= now:
            await self._settle(delivery_id, "cancelled", "window_passed")
            return False
        identity = self._identity(person.id)
        if identity is None:
            await self._settle(delivery_id, "failed", "no_channel", {"last_error": NO_CHANNEL})
            log.warning("delivery %s failed: %s", delivery_id, NO_CHANNEL)
            return False
        to = recipient(identity)
        channel = self.channels[identity.channel]
        if decided.called_off:  # awaiting consent: ask again instead of prompting
            return await self._ask_again(delivery_id, person.id, to, channel)
        prompt = outbound_prompt(delivery)
        # Mark the row before the platform call: the lease renewed and the attempt counted. If
        # the lease was lost (the batch outlived it and another worker took the row), do not send.
        marked = await self._commit_alone(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == "sending", *self.mine)
            .values(lease_until=self.timer.now() + self.lease, attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if not marked:
            log.warning("delivery %s: lease lost before sending; not sent", delivery_id)
            return False
        delivery.attempts += 1
        sent_at = self.timer.now()  # the platform call begins: the answer window starts now
        expiry, remind = answer_times(sent_at, project, person, self.zone)
        try:
            ref = await channel.send_prompt(to, prompt)
        except DeliveryError as exc:
            await self._failed(delivery_id, loaded, identity.id, exc)
            return False
        except Exception as exc:  # an adapter bug must not stop the batch; retry like a blip
            log.exception("delivery %s: unexpected error from %s", delivery_id, identity.channel)
            await self._failed(delivery_id, loaded, identity.id, DeliveryError(repr(exc)))
            return False
        await self._sent(delivery_id, identity.id, ref, (sent_at, expiry, remind))
        return True

    async def _ask_again(
        self, delivery_id: int, person_id: int, to: Recipient, channel: Channel
    ) -> bool:
        """The consent version changed since this person agreed: instead of the prompt, ask
        them again (once per batch); the prompt is skipped until they agree."""
        if person_id not in self.asked:
            self.asked.add(person_id)
            try:
                await channel.send_text(to, self.outdated[person_id])
            except DeliveryError as exc:
                log.warning("delivery %s: could not ask for consent again: %s", delivery_id, exc)
        await self._settle(delivery_id, "skipped", "awaiting_consent")
        log.info("delivery %s skipped: %s", delivery_id, why("awaiting_consent"))
        return False

    async def _sent(
        self,
        delivery_id: int,
        identity_id: int,
        ref: MessageRef,
        times: tuple[datetime, datetime, datetime | None],
    ) -> None:
        """Commit the platform's answer at once, in a transaction of its own; ``times`` are
        (sent, expires, remind), worked out before the platform call."""
        sent_at, expiry, remind = times
        values = {
            "sent_at": sent_at,
            "message_ref": ref.ref,
            "identity_id": identity_id,
            "expires_at": expiry,
            "remind_at": remind,
            "last_error": None,
            "updated_at": self.timer.now(),
            **self.cleared,
        }
        recorded = await self._commit_alone(
            move_statement(
                delivery_id,
                "sent",
                "sent",
                self.timer.now(),
                expected_from="sending",
                where=self.mine,
                values=values,
            )
        )
        if not recorded:
            log.warning("delivery %s: lease lost before it could be marked sent", delivery_id)
            return
        log.info(
            "delivery %s sent",
            delivery_id,
            extra={"action": "delivery.sent", "delivery_id": delivery_id, "channel": ref.channel},
        )

    async def _failed(
        self, delivery_id: int, loaded: Loaded, identity_id: int, exc: DeliveryError
    ) -> None:
        now = self.timer.now()
        attempts = loaded.delivery.attempts
        retry_at = now + timedelta(seconds=retry_delay(attempts, exc.retry_after))
        # A retry waits for working hours rather than landing at 7 pm.
        pattern = pattern_for(loaded.person, loaded.project, self.zone)
        retry_at = next_working_moment(retry_at, pattern) or retry_at
        error = str(exc)[:1000] or exc.__class__.__name__
        async with transaction(self.services.sessions) as session:
            values: dict[str, Any] = {"last_error": error}
            if exc.permanent:
                to, reason = "failed", "send_failed"
                await mark_unreachable(session, identity_id, error)
                self.unreachable.add(identity_id)
            elif attempts >= self.max_attempts:
                to, reason = "failed", "send_failed"
            else:
                to, reason = "planned", "retry"
                values["due_at"] = retry_at
            changed = await move(
                session,
                delivery_id,
                to,
                reason,
                now,
                expected_from="sending",
                where=self.mine,
                values=values,
            )
        if changed:
            log.warning(
                "delivery %s: send failed (attempt %d, %s): now %s",
                delivery_id,
                attempts,
                "permanent" if exc.permanent else "transient",
                to,
                extra={"action": "delivery.send_failed", "delivery_id": delivery_id},
            )


async def dispatch_once(
    services: Services,
    channels: Mapping[str, Channel],
    now: datetime,
    *,
    worker: str,
    limit: int = 100,
    stop: asyncio.Event | None = None,
) -> int:
    """Claim one batch of due deliveries and send them one by one; returns how many were sent
    (``carbot run`` drains at the channels' pace instead: :func:`bot.engine.drain.drain`).

    What is written after ``now`` (sent times, renewed leases) is dated by ``services.clock``;
    when ``stop`` is set the send in flight finishes and the remaining claims are released.
    """
    claimed = await claim_due(services, now, worker=worker, limit=limit)
    if not claimed:
        return 0
    step = DispatchBatch(services, channels, Timer(now, services.clock), worker)
    await step.load(claimed)
    sent = 0
    for position, delivery_id in enumerate(claimed):
        if stop is not None and stop.is_set():
            await release(services, claimed[position:], worker=worker, now=step.timer.now())
            break
        try:
            if await step.deliver(delivery_id):
                sent += 1
        except asyncio.CancelledError:
            # The send in flight may have reached the platform: its lease recovers it later.
            rest = claimed[position + 1 :]
            await asyncio.shield(release(services, rest, worker=worker, now=step.timer.now()))
            raise
        except Exception:
            # Not a send failure (those are recorded above) but a bug or a lost database: the
            # row keeps its lease, is claimed again after it, and fails after too many attempts.
            log.exception("delivery %s: dispatch went wrong; it will be tried again", delivery_id)
    return sent
