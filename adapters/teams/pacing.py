"""Keeping Teams' rate limits without discovering them by flooding.

Teams limits what one bot sends into one conversation, in four sliding windows at once, and
what one app sends in one tenant overall (Microsoft's "Optimize your bot with rate limiting in
Teams", https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit):

* per bot per conversation: 7 messages in 1 s, 8 in 2 s, 60 in 30 s and 1,800 in 3,600 s;
* per app per tenant: 50 requests a second (``GLOBAL_RATE``).

:class:`Pacer` gives every send a start time that keeps all five: sends start evenly
``1 / rate`` apart overall (never a burst then a wait), and a send to a conversation waits
until each of its windows has room. Windows are counted from when the earlier sends came back,
which Teams had received by then, so a request's time on the way cannot squeeze more into a
window than it allows; ``margin`` widens each window a little more, for clocks. A 429 anyway
(another process shares the app) pauses every send for the ``Retry-After`` Teams gave
(:meth:`Pacer.pause`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from adapters.pacing import Turn, came_back

# (window in seconds, messages allowed in it), per bot per conversation.
CONVERSATION_LIMITS: tuple[tuple[float, int], ...] = (
    (1.0, 7),
    (2.0, 8),
    (30.0, 60),
    (3600.0, 1800),
)
GLOBAL_RATE = 50.0  # requests a second, per app per tenant


class Pacer:
    """Start times for sends that keep Teams' limits (see the module text).

    Windows are counted from when the earlier requests *came back*, not from when they started:
    however requests bunch up on their way, Teams cannot have seen more than a window allows.
    """

    def __init__(
        self,
        *,
        rate: float = GLOBAL_RATE,
        limits: tuple[tuple[float, int], ...] = CONVERSATION_LIMITS,
        margin: float = 0.002,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = (1.0 + margin) / rate
        self._second = 1.0 + margin
        self._limits = tuple((window * (1.0 + margin), count) for window, count in limits)
        self._keep = max(count for _window, count in limits)
        self._longest = max(window for window, _count in self._limits)
        self._clock = clock
        self._next_start = 0.0
        self._paused_until = 0.0
        self._recent: deque[Turn] = deque(maxlen=max(1, int(rate)))
        self._sent: dict[str, deque[Turn]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._overall = asyncio.Lock()
        self.waited_out = 0  # 429s waited out, for logs and the benchmark

    @asynccontextmanager
    async def turn(self, conversation: str) -> AsyncIterator[None]:
        """``async with pacer.turn(conversation): <send>`` — waits for the send's turn."""
        slot = await self._take(conversation)
        try:
            yield
        finally:
            slot.end = self._clock()
            slot.done.set()

    def pause(self, seconds: float) -> None:
        """Teams said 429: no send starts for ``seconds``."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self.waited_out += 1

    async def _take(self, conversation: str) -> Turn:
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        async with lock:
            sent = self._sent.setdefault(conversation, deque(maxlen=self._keep))
            earliest = 0.0
            for window, count in self._limits:
                if len(sent) >= count:
                    earliest = max(
                        earliest, await came_back(sent[-count], window, self._clock) + window
                    )
            await self._sleep_until(earliest)
            slot = await self._overall_slot()
            sent.append(slot)
        self._forget_idle()
        return slot

    async def _overall_slot(self) -> Turn:
        """The next overall turn: on an even grid ``1 / rate`` apart, and no sooner than a
        second after the request ``rate`` turns back came back."""
        async with self._overall:
            while True:
                start = max(self._next_start, self._paused_until)
                if len(self._recent) == self._recent.maxlen:
                    oldest = await came_back(self._recent[0], self._second, self._clock)
                    start = max(start, oldest + self._second)
                now = self._clock()
                if start < now - self._interval:
                    start = now  # after an idle spell the even grid starts again at now
                if start <= now:
                    slot = Turn()
                    self._recent.append(slot)
                    self._next_start = start + self._interval
                    return slot
                await asyncio.sleep(start - now)

    async def _sleep_until(self, moment: float) -> None:
        while True:
            delay = max(moment, self._paused_until) - self._clock()
            if delay <= 0:
                return
            await asyncio.sleep(delay)

    def _forget_idle(self) -> None:
        if len(self._sent) < 4096:
            return
        now = self._clock()
        for conversation, sent in list(self._sent.items()):
            lock = self._locks.get(conversation)
            idle = not sent or (sent[-1].done.is_set() and now - sent[-1].end > self._longest)
            if idle and (lock is None or not lock.locked()):
                del self._sent[conversation]
                self._locks.pop(conversation, None)
