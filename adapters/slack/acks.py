"""Slack's acknowledgement rule, kept for one Slack channel: each event passed to the core once,
and Slack acknowledged only when that is safe.

The acknowledgement rule (DESIGN: "a reply is committed before the platform is acknowledged"),
within Slack's three seconds:

* **Events** (DM messages, files) and **modal submissions** are acknowledged as soon as the
  core has committed them (:meth:`Acks.until_committed`); the replies go out after the
  ack, paced, in order for each person (:meth:`Acks.after_ack`), so a burst of DMs is
  never held past Slack's deadline behind the one-a-second reply pace. Work still running after
  ``ack_budget`` seconds (a big file) carries on, and Slack gets a failure instead of an ack —
  so Slack redelivers the event (or keeps the modal open with its text for another *Submit*).
  The redelivery waits for the work already running and is acknowledged once it has
  committed; after a crash, it is handled afresh. Nothing acknowledged is ever uncommitted.
* **Button taps and ``/carbot``**, which Slack never redelivers, are acknowledged after the
  commit when that takes under ``ack_budget`` seconds, else at the budget with the work
  carrying on (:meth:`Acks.within_budget`). Their visible confirmation — the prompt
  showing the chosen answer, the reply — comes only after the commit, and a failure after
  the ack is told to the person, so a lost tap leaves its buttons in place to tap again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.background import Background
from adapters.base import InboundHandler, InboundMessage, InboundResult, OutboundText
from adapters.errors import NotCommittedYet

log = logging.getLogger(__name__)

SEEN_EVENTS = 2000
LATE_FAILURE = "Sorry — that didn't go through. Please try again in a minute."


class Acks:
    """The events one Slack channel has seen and the work it still runs for them."""

    def __init__(
        self, ack_budget: float, post_quietly: Callable[[str, OutboundText], Awaitable[None]]
    ) -> None:
        self.ack_budget = ack_budget
        self._post_quietly = post_quietly  # a reply to a user; failures are logged, not raised
        self.handler: InboundHandler | None = None  # the core's, once the channel has started
        self.work = Background("handling a Slack event failed")
        self._seen: OrderedDict[str, bool] = OrderedDict()  # event id → finished
        self._running: dict[str, asyncio.Task[Any]] = {}  # event id → work not yet finished

    async def within_budget(self, work: Awaitable[None], user: str | None = None) -> None:
        """Run ``work``; return when it is done or after ``ack_budget`` seconds, whichever is
        first, so that the caller can acknowledge Slack in time. The work carries on; if it
        then fails, ``user`` is told in the DM (Slack has had its ack and will not retry)."""
        task = self.work.spawn(work)
        await asyncio.wait({task}, timeout=self.ack_budget)
        if not task.done():
            if user is not None:
                task.add_done_callback(lambda done: self._tell_late_failure(done, user))
            return
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]  # Slack answers 500 and retries

    async def until_committed(self, event_id: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work()`` for ``event_id`` — or, for a redelivery, wait for the run already
        under way — and return once it has finished, so that the caller acknowledges Slack
        only then. After ``ack_budget`` seconds raise :class:`NotCommittedYet` instead: no
        ack, and Slack redelivers (the work carries on meanwhile)."""
        task = self._running.get(event_id)
        if task is None:
            task = self.work.spawn(work())
            self._running[event_id] = task
            task.add_done_callback(lambda _done: self._running.pop(event_id, None))
        await asyncio.wait({task}, timeout=self.ack_budget)
        if not task.done():
            log.info(
                "Slack event %s not committed within %.1fs; not acknowledged, Slack will retry",
                event_id,
                self.ack_budget,
                extra={"action": "slack_not_acked"},
            )
            raise NotCommittedYet(event_id)
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]  # Slack answers 500 and retries

    def after_ack(self, user: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work()`` (replies to ``user``, paced) once their earlier replies have gone,
        without holding up the acknowledgement of what they sent."""
        self.work.in_turn(user, work())

    def _tell_late_failure(self, task: asyncio.Task[Any], user: str) -> None:
        if task.cancelled() or task.exception() is None:
            return
        self.work.spawn(self._post_quietly(user, OutboundText(LATE_FAILURE)))

    async def settle(self) -> None:
        """Wait until no work is left, including work started meanwhile (replies after an ack)."""
        await self.work.settle()

    def seen(self, event_id: str) -> bool:
        """Whether ``event_id`` was handled (or is being handled) by this process already."""
        return event_id in self._seen

    async def handle(self, message: InboundMessage) -> InboundResult | None:
        """Pass ``message`` to the core once; None when it was seen already or not started."""
        if self.handler is None:
            log.warning("a Slack event arrived before the channel was started; ignored")
            return None
        if message.event_id in self._seen:
            log.info("ignored a redelivered Slack event", extra={"action": "slack_duplicate"})
            return None
        self._seen[message.event_id] = False
        while len(self._seen) > SEEN_EVENTS:
            self._seen.popitem(last=False)
        try:
            result = await self.handler(message)
        except BaseException:
            self._seen.pop(message.event_id, None)  # let Slack's retry try again
            raise
        self._seen[message.event_id] = True
        return result
