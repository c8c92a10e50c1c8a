"""Work a channel carries on with after answering the platform (replies, redrawn messages).

Each piece is kept track of until it ends, so that stopping the channel can wait for it, and a
failure is logged rather than lost. Work for one person (or chat) can be run in turn — after
their earlier work, without holding the caller up — so a person who sends two messages quickly
gets the answers in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

log = logging.getLogger(__name__)


class Background:
    """One channel's work in flight; ``failed`` is what a failure is logged as."""

    def __init__(self, failed: str) -> None:
        self.failed = failed
        self._tasks: set[asyncio.Task[Any]] = set()
        self._latest: dict[str, asyncio.Task[Any]] = {}  # key → the latest work in its turn

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """Start ``work`` now."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def in_turn(self, key: str, work: Awaitable[None]) -> None:
        """Start ``work`` once the work started earlier for ``key`` has ended (however it did)."""
        before = self._latest.get(key)

        async def after_earlier() -> None:
            if before is not None:
                await asyncio.gather(before, return_exceptions=True)
            await work

        task = self.spawn(after_earlier())
        self._latest[key] = task

        def forget(done: asyncio.Task[Any]) -> None:
            if self._latest.get(key) is done:
                del self._latest[key]

        task.add_done_callback(forget)

    async def settle(self) -> None:
        """Wait until no work is left, including work started meanwhile."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(self.failed, exc_info=task.exception())
