"""Keeping Telegram's flood limits without ever discovering them by flooding.

Telegram allows a bot about 30 messages a second overall and about one a second in one chat; past
that it answers 429 with ``retry_after``. :class:`PacedRateLimiter` plugs into
python-telegram-bot (``ApplicationBuilder().rate_limiter(...)``) and paces every message-sending
call so neither limit is reached:

- **per chat**: a message to a chat starts no sooner than ``per_chat_interval`` after the answer
  to the last one to that chat came back;
- **overall**: messages start evenly, ``window / per_window`` apart (no burst then a wait), and
  a message starts no sooner than ``window`` after the answer to the message ``per_window`` before
  it came back. Counting from answers rather than from starts keeps Telegram's sliding window
  honest however requests bunch up on the way (the round trip is its margin); ``margin`` adds a
  little to the even spacing and to the per-chat interval.

If Telegram answers 429 anyway (another process shares the token, or its limits moved), every
send pauses for ``retry_after`` and the same call is made again: a 429 means nothing was sent, so
nothing is lost and nothing is doubled. Other calls (getUpdates, getFile, answerCallbackQuery…)
pass straight through.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from adapters.pacing import Turn, came_back

log = logging.getLogger(__name__)

_NOT_MESSAGES = frozenset({"sendChatAction", "sendInvoice"})


def is_message_call(endpoint: str) -> bool:
    """Whether Telegram counts this Bot API method as a message against its flood limits."""
    if endpoint in _NOT_MESSAGES:
        return False
    return endpoint.startswith(("send", "editMessage")) or endpoint in (
        "copyMessage",
        "forwardMessage",
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds, whichever type this PTB version hands out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


class PacedRateLimiter(BaseRateLimiter[int]):
    """Per-chat and overall pacing, with 429s waited out and retried (see the module text)."""

    def __init__(
        self,
        *,
        per_window: int = 30,
        window: float = 1.0,
        per_chat_interval: float = 1.0,
        margin: float = 0.02,
        max_retries: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_window = per_window
        self._window = window  # counted from answers: the round trip is on top already
        self._interval = window * (1 + margin) / per_window
        self._per_chat_interval = per_chat_interval * (1 + margin)
        self._max_retries = max_retries
        self._clock = clock
        self._overall = asyncio.Lock()
        self._recent: deque[Turn] = deque(maxlen=per_window)
        self._next_start = 0.0
        self._paused_until = 0.0
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._chat_last: dict[str, Turn] = {}
        self.retries = 0  # 429s waited out, for logs and the benchmark
        self.round_trips = 0  # message calls answered, and their total time (the benchmark)
        self.round_trip_seconds = 0.0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if not is_message_call(endpoint):
            return await callback(*args, **kwargs)
        chat = str(data.get("chat_id", ""))
        max_retries = self._max_retries if rate_limit_args is None else rate_limit_args
        attempt = 0
        while True:
            slot = await self._wait_for_slot(chat)
            began = self._clock()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                attempt += 1
                pause = retry_after_seconds(exc)
                self._paused_until = max(self._paused_until, self._clock() + pause)
                self.retries += 1
                if attempt > max_retries:
                    raise
                log.warning(
                    "Telegram asked to slow down; pausing sends for %.1f s (%s)",
                    pause,
                    endpoint,
                    extra={"action": "telegram.retry_after", "retry_after": pause},
                )
            finally:
                slot.end = self._clock()
                slot.done.set()
                self.round_trips += 1
                self.round_trip_seconds += slot.end - began

    async def _wait_for_slot(self, chat: str) -> Turn:
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        async with lock:
            previous = self._chat_last.get(chat) if chat else None
            if previous is not None:
                end = await came_back(previous, self._per_chat_interval, self._clock)
                await self._sleep_until(end + self._per_chat_interval)
            slot = await self._take_overall_slot()
            if chat:
                self._chat_last[chat] = slot
                self._forget_idle_chats()
            return slot

    async def _take_overall_slot(self) -> Turn:
        """Wait for the next overall turn.

        Turns are laid on an even grid (``_interval`` apart), so waking late does not push every
        later turn back: turns missed while the process was busy (up to a window's worth) are
        taken at once when it comes back; after a longer idle spell the grid starts again at
        now. A turn also starts no sooner than a window after the request ``per_window`` turns
        back came *back*: however requests bunch up on their way, Telegram cannot have seen more
        than ``per_window`` of them in any window.
        """
        async with self._overall:
            while True:
                start = max(self._next_start, self._paused_until)
                if len(self._recent) == self._per_window:
                    oldest = await came_back(self._recent[0], self._window, self._clock)
                    start = max(start, oldest + self._window)
                now = self._clock()
                if start < now - self._window:
                    start = now
                if start <= now:
                    slot = Turn()
                    self._recent.append(slot)
                    self._next_start = start + self._interval
                    return slot
                await asyncio.sleep(start - now)

    async def _sleep_until(self, moment: float) -> None:
        delay = moment - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)

    def _forget_idle_chats(self) -> None:
        if len(self._chat_last) < 4096:
            return
        now = self._clock()
        for chat, slot in list(self._chat_last.items()):
            if slot.done.is_set() and now - slot.end > self._per_chat_interval:
                del self._chat_last[chat]
                lock = self._chat_locks.get(chat)
                if lock is not None and not lock.locked():
                    del self._chat_locks[chat]
