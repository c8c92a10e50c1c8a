"""Leader locks: exactly one worker at a time does a job that must not run twice.

Telegram lets one process poll a bot token at a time (a second getUpdates gets 409 Conflict), yet
several ``carbot run`` workers may share one database. Each worker asks for the same named lock;
the one that gets it polls, the others try again now and then and take over when it goes away:

- **PostgreSQL**: ``pg_try_advisory_lock`` on a connection of its own, kept open while the lock is
  held (outside SQLAlchemy's pool, so it is never handed to other work). If the worker dies, its
  connection closes and PostgreSQL drops the lock; the holder checks its connection before each
  poll and stops polling as soon as it is gone.
- **SQLite** (one machine): ``flock`` on a file next to the database file. The kernel releases
  it when the process exits, however it exits.

Both satisfy :class:`adapters.telegram.PollerLock` (``acquire`` / ``held`` / ``release``).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.settings import Settings

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``, from the lock's name."""
    digest = hashlib.sha256(f"carbot:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class FileLock:
    """An exclusive ``flock`` on ``path``, held while the file stays open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        log.info("Took the lock %s", self.path.name)
        return True

    async def held(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class PostgresAdvisoryLock:
    """A session-level advisory lock on a dedicated asyncpg connection."""

    def __init__(self, database_url: str, key: int, *, check_timeout: float = 10.0) -> None:
        self._url = make_url(database_url)
        self.key = key
        self._check_timeout = check_timeout
        self._connection: Any = None

    async def _connect(self) -> Any:
        import asyncpg  # type: ignore[import-untyped]

        url = self._url
        return await asyncpg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
        )

    async def acquire(self) -> bool:
        if self._connection is not None and await self.held():
            return True
        connection = await self._connect()
        try:
            got = await connection.fetchval("SELECT pg_try_advisory_lock($1)", self.key)
        except Exception:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self._connection = connection
        log.info("Took the advisory lock %d", self.key)
        return True

    async def held(self) -> bool:
        connection = self._connection
        if connection is None or connection.is_closed():
            self._connection = None
            return False
        try:
            await asyncio.wait_for(connection.fetchval("SELECT 1"), self._check_timeout)
        except Exception:
            log.warning("Lost the connection holding advisory lock %d", self.key)
            self._connection = None
            connection.terminate()
            return False
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None or connection.is_closed():
            return
        try:
            await connection.fetchval("SELECT pg_advisory_unlock($1)", self.key)
        except Exception:
            log.debug("Could not unlock advisory lock %d; closing its connection", self.key)
        finally:
            await connection.close()


def leader_lock(settings: Settings, name: str) -> FileLock | PostgresAdvisoryLock:
    """The lock called ``name`` for workers sharing ``settings.database_url``."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        return PostgresAdvisoryLock(settings.database_url, lock_key(name))
    database = url.database if url.get_backend_name() == "sqlite" else None
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        return FileLock(path.with_name(f"{path.name}.{name}.lock"))
    return FileLock(Path(settings.data_dir) / f"{name}.lock")


def telegram_poller_lock(settings: Settings) -> FileLock | PostgresAdvisoryLock:
    """The lock that lets one worker poll this bot token (the token's bot id names it)."""
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    bot_id = token.split(":", 1)[0] or "bot"
    return leader_lock(settings, f"telegram-poller-{bot_id}")
