"""Killing a dispatcher mid-week and starting another never sends a prompt twice or skips one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.services import Services
from storage.models import Delivery
from tests.engine.world import TUESDAY_MORNING, make_world, plan

ROOT = Path(__file__).resolve().parents[2]
MONDAY = TUESDAY_MORNING.replace(day=8, hour=0)  # Monday 8 March 2027
SATURDAY = MONDAY + timedelta(days=5)


def start_worker(services: Services, tmp_path: Path, **options: object) -> subprocess.Popen[bytes]:
    options = {
        "url": services.settings.database_url,
        "data_dir": str(tmp_path / "data"),
        "journal": str(tmp_path / "journal.txt"),
        "blocked": str(tmp_path / "blocked.json"),
        **options,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine.restart_worker", json.dumps(options, default=str)],
        cwd=ROOT,
    )


def kill_when_blocked(worker: subprocess.Popen[bytes], tmp_path: Path) -> datetime:
    """Wait for the worker to hang inside a send, SIGKILL it; return the simulated time."""
    marker = tmp_path / "blocked.json"
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert worker.poll() is None, "the worker ended before reaching the send it hangs in"
        assert time.monotonic() < deadline, "the worker never reached the send it hangs in"
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait(timeout=10) == -signal.SIGKILL
    return datetime.fromisoformat(json.loads(marker.read_text())["at"])


def journal(tmp_path: Path) -> list[tuple[str, int]]:
    lines = (tmp_path / "journal.txt").read_text().splitlines()
    return [(kind, int(delivery_id)) for kind, delivery_id, _ in (line.split() for line in lines)]


async def statuses(services: Services) -> dict[str, int]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return {status: count for status, count in rows}


async def test_killing_and_restarting_mid_week_sends_every_prompt_exactly_once(
    services: Services, tmp_path: Path
) -> None:
    await make_world(services, people=12)
    first = start_worker(services, tmp_path, plan=True, start=MONDAY, end=SATURDAY, block_at=17)
    killed_at = kill_when_blocked(first, tmp_path)
    assert killed_at.weekday() == 3  # Thursday: mid-week, mid-dispatch
    before = journal(tmp_path)

    restart = killed_at + timedelta(minutes=10)  # the lease (2 minutes) has run out by then
    second = start_worker(services, tmp_path, plan=True, start=restart, end=SATURDAY)
    assert second.wait(timeout=120) == 0

    sent = journal(tmp_path)
    prompts = Counter(d for kind, d in sent if kind == "prompt")
    reminders = Counter(d for kind, d in sent if kind == "reminder")
    async with services.sessions() as session:
        planned = set(await session.scalars(select(Delivery.id)))
    assert len(planned) == 24  # twelve people, two prompts each this week
    assert set(prompts) == planned  # none skipped
    assert set(prompts.values()) == {1}  # none twice
    assert set(reminders) == planned  # every prompt had its reminder by Friday…
    assert set(reminders.values()) == {1}  # …and only one, even across the crash
    # The dead worker hung in its 17th prompt, on Thursday; what it sent was not sent again.
    assert sum(kind == "prompt" for kind, _ in before) == 16
    assert before == sent[: len(before)]
    # Tuesday's prompts have expired; Thursday's have had their reminder and are still open.
    assert await statuses(services) == {"expired": 12, "reminded": 12}


async def test_deliveries_claimed_by_a_killed_worker_are_sent_once_after_its_lease(
    services: Services, tmp_path: Path
) -> None:
    world = await make_world(services, people=10)
    batch = [await plan(services, world, person, TUESDAY_MORNING) for person in world.people]
    start = TUESDAY_MORNING
    first = start_worker(
        services, tmp_path, start=start, end=start + timedelta(hours=1), block_at=4
    )
    killed_at = kill_when_blocked(first, tmp_path)
    assert await statuses(services) == {"sent": 3, "sending": 7}  # the batch it held

    second = start_worker(
        services,
        tmp_path,
        start=killed_at + timedelta(minutes=3),
        end=killed_at + timedelta(minutes=4),
        step_minutes=1,
    )
    assert second.wait(timeout=60) == 0

    prompts = Counter(d for kind, d in journal(tmp_path) if kind == "prompt")
    assert sorted(prompts) == sorted(batch)
    assert set(prompts.values()) == {1}
    assert await statuses(services) == {"sent": 10}
