"""Two ``carbot run`` processes on one database and one bot token: one polls, nothing conflicts,
each message is answered once, and both stop cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram.conftest import ANA, eventually

ROOT = Path(__file__).resolve().parents[2]
CARBOT = [sys.executable, "-c", "from bot.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_two_workers_share_one_poller_and_answer_each_message_once(
    fake: FakeTelegramAPI, tmp_path: Path, any_db_url: str
) -> None:
    """On SQLite the lock is a file next to the database; on PostgreSQL an advisory lock."""
    env = {
        **os.environ,
        "CARBOT_DATABASE_URL": any_db_url,
        "CARBOT_DATA_DIR": str(tmp_path / "data"),
        "CARBOT_TELEGRAM_TOKEN": fake.token,
        "CARBOT_TELEGRAM_API_BASE_URL": fake.base_url,
        "CARBOT_SCHEDULER_ENABLED": "false",
        "CARBOT_LOG_LEVEL": "WARNING",
    }
    upgrade = await asyncio.create_subprocess_exec(*CARBOT, "db", "upgrade", env=env, cwd=ROOT)
    assert await upgrade.wait() == 0
    workers = [
        await asyncio.create_subprocess_exec(
            *CARBOT, "run", env={**env, "CARBOT_WEB_PORT": str(free_port())}, cwd=ROOT
        )
        for _ in range(2)
    ]
    try:
        await eventually(lambda: fake.calls_to("deleteWebhook"), within=60)
        fake.add_update(fake.message(ANA, "hello?"))
        await eventually(lambda: fake.chat(ANA), within=30)
        # A second poller, had there been one, would have taken or answered this one too.
        fake.add_update(fake.message(ANA, "anyone there?"))
        await eventually(lambda: len(fake.chat(ANA)) >= 2, within=30)
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(worker.wait(), 30) for worker in workers]
    assert codes == [0, 0]
    assert len(fake.chat(ANA)) == 2 and "I don't know you yet" in fake.last_text(ANA)
    assert len(fake.calls_to("deleteWebhook")) == 1  # only the lock holder ever polled
    assert fake.conflicts == 0
    if any_db_url.startswith("sqlite"):
        assert (tmp_path / "carbot.db.telegram-poller-123456.lock").exists()
