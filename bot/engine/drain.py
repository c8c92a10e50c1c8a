"""Sending at the channel's pace: due deliveries drain continuously, not a batch per tick.

:func:`drain` claims due deliveries a batch at a time and keeps claiming while due rows remain:
the next batch is claimed while the last of the current one is still going out, so the sends
never wait for the database. Up to ``in_flight`` sends are under way or waiting for their turn
at once; the channel's own pacing (Telegram's 30 messages a second overall and one a second in
a chat, Slack's one a second in a conversation) decides when each goes. So 1,000 prompts due at
10:00 take as long as the platform allows — about 34 s on Telegram — and not ten scheduler ticks.

Each delivery keeps every guarantee of :mod:`bot.engine.dispatch`: it is claimed before it is
sent, marked (lease renewed, attempt counted) just before the platform call, and the platform's
answer is committed at once. When ``stop`` is set, the sends under way finish and every claim
not yet sent is handed back; ``still_leading`` (the sending leader's check, see
:mod:`bot.engine.jobs`) is asked before each claim, so a worker that lost the lead stops taking
work within one batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from sqlalchemy import func, select

from adapters.base import Channel
from bot.engine.dispatch import DispatchBatch, Timer
from bot.engine.leases import claim_due, release
from bot.services import Services
from storage.models import Delivery

log = logging.getLogger(__name__)

BATCH = 100  # deliveries claimed at a time
IN_FLIGHT = 16  # sends under way or waiting for the channel's pace, at once


class _Drain:
    def __init__(
        self,
        services: Services,
        channels: Mapping[str, Channel],
        *,
        worker: str,
        batch: int,
        in_flight: int,
        stop: asyncio.Event,
        still_leading: Callable[[], Awaitable[bool]] | None,
    ) -> None:
        self.services = services
        self.channels = channels
        self.worker = worker
        self.batch = batch
        self.in_flight = in_flight
        self.stop = stop
        self.still_leading = still_leading
        self.waiting: deque[tuple[DispatchBatch, int]] = deque()  # claimed, not yet being sent
        self.ready = asyncio.Condition()
        self.exhausted = False  # nothing more was due at the last claim
        self.sent = 0

    async def _claim(self) -> bool:
        """Claim one batch into ``waiting``; False when nothing more is due (or we must stop)."""
        if self.stop.is_set():
            return False
        if self.still_leading is not None and not await self.still_leading():
            log.warning("no longer the sending leader; leaving the rest to the new one")
            return False
        now = self.services.clock.now()
        claimed = await claim_due(self.services, now, worker=self.worker, limit=self.batch)
        if claimed:
            step = DispatchBatch(
                self.services, self.channels, Timer(now, self.services.clock), self.worker
            )
            await step.load(claimed)
            async with self.ready:
                self.waiting.extend((step, delivery_id) for delivery_id in claimed)
                self.ready.notify_all()
        return len(claimed) == self.batch

    async def claimer(self) -> None:
        """Keep at least half a batch waiting while due rows remain."""
        try:
            while True:
                async with self.ready:
                    await self.ready.wait_for(
                        lambda: len(self.waiting) <= self.batch // 2 or self.stop.is_set()
                    )
                if not await self._claim():
                    return
        finally:
            async with self.ready:
                self.exhausted = True
                self.ready.notify_all()

    async def sender(self) -> None:
        while True:
            async with self.ready:
                await self.ready.wait_for(
                    lambda: bool(self.waiting) or self.exhausted or self.stop.is_set()
                )
                if self.stop.is_set() or not self.waiting:
                    return
                step, delivery_id = self.waiting.popleft()
                if len(self.waiting) <= self.batch // 2:
                    self.ready.notify_all()  # the claimer may fetch the next batch
            try:
                if await step.deliver(delivery_id):
                    self.sent += 1
            except asyncio.CancelledError:
                raise  # the send in flight may have reached the platform: its lease recovers it
            except Exception:
                # Not a send failure (those are recorded) but a bug or a lost database: the row
                # keeps its lease, is claimed again after it, and fails after too many attempts.
                log.exception(
                    "delivery %s: dispatch went wrong; it will be tried again", delivery_id
                )

    async def watch_stop(self) -> None:
        await self.stop.wait()
        async with self.ready:
            self.ready.notify_all()

    async def run(self) -> int:
        watcher = asyncio.create_task(self.watch_stop(), name="dispatch-stop")
        tasks = [asyncio.create_task(self.claimer(), name="dispatch-claim")]
        tasks += [
            asyncio.create_task(self.sender(), name=f"dispatch-send-{n}")
            for n in range(self.in_flight)
        ]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            watcher.cancel()
            left = [delivery_id for _, delivery_id in self.waiting]
            self.waiting.clear()
            if left:  # stopped (or cancelled) with claims not yet sent: hand them back now
                await asyncio.shield(
                    release(self.services, left, worker=self.worker, now=self.services.clock.now())
                )
        return self.sent


async def drain(
    services: Services,
    channels: Mapping[str, Channel],
    *,
    worker: str,
    stop: asyncio.Event | None = None,
    still_leading: Callable[[], Awaitable[bool]] | None = None,
    batch: int = BATCH,
    in_flight: int = IN_FLIGHT,
) -> int:
    """Send every delivery due by ``services.clock`` at the channels' pace, claiming batch after
    batch until none is due; returns how many the platforms accepted (see the module text)."""
    step = _Drain(
        services,
        channels,
        worker=worker,
        batch=batch,
        in_flight=in_flight,
        stop=stop or asyncio.Event(),
        still_leading=still_leading,
    )
    return await step.run()


async def next_due(services: Services) -> datetime | None:
    """When the next delivery falls due: the earliest planned one, or a lease that runs out."""
    async with services.sessions() as session:
        planned = await session.scalar(
            select(func.min(Delivery.due_at)).where(Delivery.status == "planned")
        )
        leased = await session.scalar(
            select(func.min(Delivery.lease_until)).where(Delivery.status == "sending")
        )
    times = [t for t in (planned, leased) if t is not None]
    return min(times) if times else None
