"""Only one worker polls a bot token at a time; another takes over when it goes away."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram import TelegramChannel
from bot.locks import FileLock, PostgresAdvisoryLock, leader_lock, lock_key, telegram_poller_lock
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram.conftest import ANA, Recorder, config_for, eventually


@dataclass
class RefusalsCounted:
    """A poller lock that counts how often it was refused."""

    lock: Any
    refused: int = 0

    async def acquire(self) -> bool:
        got = bool(await self.lock.acquire())
        self.refused += not got
        return got

    async def held(self) -> bool:
        return bool(await self.lock.held())

    async def release(self) -> None:
        await self.lock.release()


async def test_two_workers_sharing_a_database_poll_one_at_a_time_and_hand_over(
    fake: FakeTelegramAPI, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, telegram_token=fake.token)
    first_core, second_core = Recorder(), Recorder()
    first = TelegramChannel(config_for(fake), poller_lock=telegram_poller_lock(settings))
    second_lock = RefusalsCounted(telegram_poller_lock(settings))
    second = TelegramChannel(config_for(fake), poller_lock=second_lock)
    await first.start(first_core)
    await eventually(lambda: first.polling)
    await second.start(second_core)
    try:
        fake.add_update(fake.message(ANA, "It went well"))
        await eventually(lambda: fake.chat(ANA))
        refused = second_lock.refused
        await eventually(lambda: second_lock.refused >= refused + 3)  # it kept trying, in vain
        assert not second.polling and second_core.messages == []
        await first.stop()  # the first worker stops (or dies): the second takes over
        await eventually(lambda: second.polling)
        fake.add_update(fake.message(ANA, "One more thing"))
        await eventually(lambda: len(fake.chat(ANA)) == 2)
    finally:
        await second.stop()
    assert [m.text for m in first_core.messages] == ["It went well"]
    assert [m.text for m in second_core.messages] == ["One more thing"]
    assert fake.conflicts == 0


async def test_the_file_lock_sits_next_to_the_sqlite_database_and_is_exclusive(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, telegram_token="98765:secret-part")
    one, two = telegram_poller_lock(settings), telegram_poller_lock(settings)
    assert isinstance(one, FileLock)
    assert one.path == tmp_path / "carbot.db.telegram-poller-98765.lock"
    assert "secret-part" not in str(one.path)
    assert await one.acquire()
    assert not await two.acquire()
    await one.release()
    assert await two.acquire()
    await two.release()


@pytest.mark.postgres
async def test_on_postgresql_an_advisory_lock_is_held_until_its_connection_goes(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, postgres_url, telegram_token="98765:x")
    one, two = telegram_poller_lock(settings), telegram_poller_lock(settings)
    assert isinstance(one, PostgresAdvisoryLock) and isinstance(two, PostgresAdvisoryLock)
    assert one.key == lock_key("telegram-poller-98765")
    assert await one.acquire() and await one.held()
    assert not await two.acquire()
    one._connection.terminate()  # the worker died: PostgreSQL drops its session lock
    assert not await one.held()
    for _ in range(100):  # the server notices the closed connection within moments
        if await two.acquire():
            break
        await asyncio.sleep(0.05)
    assert await two.held()
    assert not await one.acquire()
    await two.release()
    assert await one.acquire()
    await one.release()


def test_a_lock_for_an_in_memory_database_lives_in_the_data_directory(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "sqlite+aiosqlite://")
    lock = leader_lock(settings, "telegram-poller-1")
    assert isinstance(lock, FileLock)
    assert lock.path == tmp_path / "data" / "telegram-poller-1.lock"


async def test_without_the_lock_two_pollers_would_conflict(fake: FakeTelegramAPI) -> None:
    """The fake notices two pollers at once, so the tests above would catch a broken lock."""
    first = TelegramChannel(config_for(fake))
    second = TelegramChannel(config_for(fake))
    await first.start(Recorder())
    await second.start(Recorder())
    try:
        await eventually(lambda: fake.conflicts > 0)
    finally:
        await first.stop()
        await second.stop()
