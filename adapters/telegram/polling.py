"""Long polling that acknowledges an update only after it was handled, by one worker at a time.

Telegram allows one getUpdates poller per bot token (a second gets 409 Conflict). When several
``carbot run`` workers share a database, each is given a :class:`PollerLock` (``bot.locks``: a
PostgreSQL advisory lock or a file lock next to the SQLite database); only the holder polls, the
others try again every ``lock_retry_seconds`` and take over when the holder stops or dies.

The offset sent to getUpdates (which tells Telegram "everything before this is done") moves past a
batch only once every update in it was handled: updates from different chats are handled side by
side, one chat's updates in order. An update whose handling fails is tried again a few times; the
core stores each ``update_id`` once, so trying again never doubles anything. After the last try
the person is told that it did not work, and polling goes on.

A batch is fetched as plain JSON and read one update at a time (``adapters.telegram.updates``): an
update python-telegram-bot cannot read is logged by its id and the kind of error — not its
content — and skipped, and the offset moves past it; the rest of the batch is handled as usual.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from telegram import Bot, Update
from telegram.error import Conflict, TelegramError
from telegram.warnings import PTBUserWarning

from adapters.errors import UnreadableUpdate
from adapters.telegram.updates import read_update, update_id_of

log = logging.getLogger(__name__)


UpdateHandler = Callable[[Update], Awaitable[None]]


class PollerLock(Protocol):
    """Leadership among workers sharing a bot token (implemented in ``bot.locks``)."""

    async def acquire(self) -> bool:
        """Try once, without waiting; True when this worker now holds the lock."""

    async def held(self) -> bool:
        """Whether the lock is still this worker's (for example, its connection is alive)."""

    async def release(self) -> None:
        """Give the lock up (safe to call when it is not held)."""


class Poller:
    def __init__(
        self,
        bot: Bot,
        handle: UpdateHandler,
        *,
        lock: PollerLock | None = None,
        timeout: float = 30.0,
        allowed_updates: Sequence[str] = ("message", "edited_message", "callback_query"),
        lock_retry_seconds: float = 15.0,
        on_failure: UpdateHandler | None = None,
        attempts: int = 3,
        backoff: float = 1.0,
        read_timeout: float = 10.0,
    ) -> None:
        self._bot = bot
        self._handle = handle
        self._lock = lock
        self._timeout = timeout
        self._allowed = list(allowed_updates)
        self._lock_retry = lock_retry_seconds
        self._on_failure = on_failure
        self._attempts = attempts
        self._backoff = backoff
        self._read_timeout = read_timeout  # on top of the long poll's own wait
        self._offset: int | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.leading = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="telegram-poller")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            if self._lock is not None and not await self._try_lock():
                await self._pause(self._lock_retry)
                continue
            self.leading = True
            log.info("This worker is now polling Telegram", extra={"action": "telegram.lead"})
            try:
                await self._lead()
            except Exception:
                log.exception("Telegram polling stopped unexpectedly; starting again")
                await self._pause(self._backoff)
            finally:
                self.leading = False
                if self._lock is not None:
                    await self._unlock()

    async def _try_lock(self) -> bool:
        assert self._lock is not None
        try:
            return await self._lock.acquire()
        except Exception:
            log.exception("Could not try the Telegram poller lock")
            return False

    async def _unlock(self) -> None:
        assert self._lock is not None
        try:
            await self._lock.release()
        except Exception:
            log.exception("Could not release the Telegram poller lock")

    async def _lead(self) -> None:
        failures = 0
        cleared_webhook = False
        while not self._stopping.is_set():
            if self._lock is not None and not await self._lock.held():
                log.warning("Lost the Telegram poller lock; another worker may take over")
                return
            try:
                if not cleared_webhook:  # a webhook left behind makes getUpdates answer 409
                    await self._bot.delete_webhook()
                    cleared_webhook = True
                updates = await self._fetch()
            except TelegramError as exc:
                failures += 1
                delay = min(self._backoff * 2 ** min(failures, 5), 30.0)
                if isinstance(exc, Conflict):
                    log.warning("Another process is polling this bot token; waiting %.0f s", delay)
                else:
                    log.warning("getUpdates failed (%s); trying again in %.1f s", exc, delay)
                await self._pause(delay)
                continue
            if updates is None:
                return
            failures = 0
            batch, next_offset = updates
            if batch:
                await self._handle_batch(batch)
            if next_offset is not None:
                self._offset = next_offset

    async def _fetch(self) -> tuple[list[Update], int | None] | None:
        """One long poll: the readable updates and the offset past the whole batch; None when
        asked to stop while waiting."""
        fetch = asyncio.ensure_future(self._get_updates_json())
        stopping = asyncio.ensure_future(self._stopping.wait())
        done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if fetch not in done:
            fetch.cancel()
            await asyncio.gather(fetch, return_exceptions=True)
            return None
        return self._read_batch(fetch.result())

    async def _get_updates_json(self) -> object:
        """getUpdates through ``Bot.do_api_request``, so its answer comes back as JSON rather
        than parsed as one batch (which one unreadable update would fail whole). PTB warns that
        a typed method exists; that is the one this avoids."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Please use 'Bot.getUpdates'", PTBUserWarning)
            return await self._bot.do_api_request(
                "getUpdates",
                api_kwargs={
                    "offset": self._offset,
                    "timeout": int(self._timeout),
                    "allowed_updates": self._allowed,
                },
                read_timeout=self._timeout + self._read_timeout,
            )

    def _read_batch(self, raw: object) -> tuple[list[Update], int | None]:
        items = raw if isinstance(raw, list) else []
        ids = [i for i in map(update_id_of, items) if i is not None]
        updates: list[Update] = []
        for item in items:
            try:
                updates.append(read_update(item, self._bot))
            except UnreadableUpdate as unreadable:
                log.warning(
                    "Skipped Telegram update %s: it could not be read (%s)",
                    unreadable.update_id,
                    unreadable.error,
                    extra={"action": "telegram.unreadable"},
                )
        return updates, (max(ids) + 1 if ids else None)

    async def _handle_batch(self, updates: Sequence[Update]) -> None:
        by_chat: dict[object, list[Update]] = {}
        for update in updates:
            chat = update.effective_chat
            by_chat.setdefault(chat.id if chat else update.update_id, []).append(update)

        async def in_order(chain: list[Update]) -> None:
            for update in chain:
                await self._handle_one(update)

        await asyncio.gather(*(in_order(chain) for chain in by_chat.values()))

    async def _handle_one(self, update: Update) -> None:
        for attempt in range(1, self._attempts + 1):
            try:
                await self._handle(update)
                return
            except Exception as exc:
                # the kind of error only: a database error's text can quote what was sent
                log.error(
                    "Handling Telegram update %d failed (try %d of %d): %s",
                    update.update_id,
                    attempt,
                    self._attempts,
                    type(exc).__name__,
                    extra={"action": "telegram.update_failed"},
                )
                log.debug("Why Telegram update %d failed", update.update_id, exc_info=True)
                if attempt < self._attempts:
                    await asyncio.sleep(self._backoff * attempt)
        if self._on_failure is not None:
            await self._on_failure(update)

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass
