"""Killing the sender mid-run and starting it again sends each digest exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot.engine.digest_jobs import send_due_digests
from bot.services import Services
from storage.db import transaction
from storage.models import Digest
from tests.conftest import make_settings
from tests.digests.conftest import free_port
from tests.digests.factory import add_reflection, add_study, add_team
from tests.digests.helpers import WEEKLY_TIME
from tests.support.schema import create_schema

ROOT = Path(__file__).resolve().parents[2]
SENDER = """
import asyncio, sys
from datetime import datetime
from bot.services import Services
from bot.settings import Settings
from bot.engine.digest_jobs import send_due_digests

async def main():
    services = Services.from_settings(Settings(_env_file=None))
    try:
        print(await send_due_digests(services, datetime.fromisoformat(sys.argv[1])), flush=True)
    finally:
        await services.close()

asyncio.run(main())
"""
LEADS = [f"lead{i}@example.org" for i in range(4)]


class KillOnSecondMessage:
    """An SMTP handler that accepts the first message, then SIGKILLs the sender while it is
    handing over the second (which is therefore never accepted)."""

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.sender_pid: int | None = None
        self.kill = True

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.kill and self.accepted and self.sender_pid:
            os.kill(self.sender_pid, signal.SIGKILL)
            self.kill = False
            await asyncio.sleep(0.2)
            return "421 sender went away"
        self.accepted.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def killing_smtp() -> Iterator[tuple[KillOnSecondMessage, int]]:
    handler = KillOnSecondMessage()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


async def test_a_sender_killed_mid_run_and_restarted_sends_each_digest_once(
    tmp_path: Path, killing_smtp: tuple[KillOnSecondMessage, int]
) -> None:
    handler, port = killing_smtp
    settings = make_settings(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    services = Services.from_settings(settings)
    await create_schema(services.engine)
    async with transaction(services.sessions) as session:
        await add_study(session)
        for index, lead in enumerate(LEADS):
            team = await add_team(
                session,
                slug=f"project-{index}",
                name=f"Project {index}",
                members=1,
                lead_email=lead,
            )
            await add_reflection(session, team, team.members[0], f"Heard in project {index}")

    env = {
        **os.environ,
        "CARBOT_DATABASE_URL": settings.database_url,
        "CARBOT_SMTP_HOST": "127.0.0.1",
        "CARBOT_SMTP_PORT": str(port),
        "CARBOT_SMTP_SECURITY": "none",
        "CARBOT_OUTBOX_DIR": str(tmp_path / "outbox"),
        "CARBOT_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SENDER,
        WEEKLY_TIME.isoformat(),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    handler.sender_pid = process.pid
    await asyncio.wait_for(process.wait(), 60)
    assert process.returncode == -signal.SIGKILL
    assert len(handler.accepted) == 1

    # Restarted too soon, the killed sender's lease still holds its digest.
    soon = await send_due_digests(services, WEEKLY_TIME + timedelta(seconds=30))
    after_lease = WEEKLY_TIME + timedelta(seconds=settings.dispatch_lease_seconds + 1)
    later = await send_due_digests(services, after_lease)
    again = await send_due_digests(services, after_lease + timedelta(hours=1))

    assert (soon, later, again) == (2, 1, 0)
    assert sorted(handler.accepted) == sorted(LEADS)  # every lead, once
    async with services.sessions() as session:
        rows = list(await session.scalars(select(Digest)))
    assert sorted(r.recipient for r in rows) == sorted(LEADS)
    assert {r.status for r in rows} == {"sent"}
    assert max(r.attempts for r in rows) == 2  # the one in flight at the kill, taken over
    await services.close()
