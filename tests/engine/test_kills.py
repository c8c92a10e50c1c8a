"""SIGKILLing a dispatching worker again and again, at random moments, loses no prompt; the only
duplicates are kills that land in the one at-least-once window (after the platform accepted a
prompt, before its row was committed). The test counts them and prints how often that was."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bot.services import Services
from storage.models import Delivery
from tests.engine.test_restart import start_worker
from tests.engine.world import SCALE, TUESDAY_MORNING, make_world

PEOPLE = 400
KILLS = 9
TICK = timedelta(minutes=3)  # one worker's run: ticks at 0, 1, 2 minutes; leases last 2


def journal_lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def kill_while_sending(worker: subprocess.Popen[bytes], journal: Path, rng: random.Random) -> bool:
    """Once the worker has sent something, SIGKILL it at a random moment; False if it ended
    first (nothing left to send)."""
    before = journal_lines(journal)
    deadline = time.monotonic() + 60
    while journal_lines(journal) == before:
        if worker.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the worker never started sending"
        time.sleep(0.002)
    time.sleep(rng.uniform(0, 0.05))
    if worker.poll() is not None:
        return False
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait(timeout=10) == -signal.SIGKILL
    return True


async def test_repeated_sigkills_of_a_dispatching_worker_lose_nothing_and_duplicates_are_counted(
    any_services: Services, tmp_path: Path
) -> None:
    services = any_services
    world = await make_world(services, people=PEOPLE)
    async with services.sessions() as session, session.begin():
        await session.execute(
            insert(Delivery),
            [
                {
                    "person_id": person,
                    "project_id": world.project_id,
                    "slot": TUESDAY_MORNING,
                    "due_at": TUESDAY_MORNING,
                    "cycle_id": world.cycle_id,
                    "phase_id": world.phase_id,
                    "prompt_key": "exploring.drop-in",
                    "prompt_kind": "scale",
                    "prompt_text": "How well did the drop-in work for families this week?",
                    "prompt_options": SCALE,
                }
                for person in world.people
            ],
        )
    journal = tmp_path / "journal.txt"
    rng = random.Random(15)
    start, kills = TUESDAY_MORNING, 0
    while kills < KILLS:
        worker = start_worker(services, tmp_path, start=start, end=start + TICK, step_minutes=1)
        if not kill_while_sending(worker, journal, rng):
            break
        kills += 1
        start += TICK
    last = start_worker(
        services, tmp_path, start=start + TICK, end=start + 4 * TICK, step_minutes=1
    )
    assert last.wait(timeout=120) == 0

    lines = journal.read_text().splitlines()
    sent = Counter(int(line.split()[1]) for line in lines if line.startswith("prompt "))
    async with services.sessions() as session:
        planned = set(await session.scalars(select(Delivery.id)))
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        statuses = {status: count for status, count in rows}
    duplicates = sum(times - 1 for times in sent.values())
    backend = services.engine.dialect.name
    print(
        f"\n{backend}: {kills} SIGKILLs while dispatching {PEOPLE} prompts: 0 lost, "
        f"{duplicates} sent twice ({duplicates}/{kills} kills landed in the at-least-once window)"
    )
    assert kills == KILLS  # every kill landed while the worker was sending
    assert set(sent) == planned  # nothing lost
    assert statuses == {"sent": PEOPLE}
    assert duplicates <= kills  # at most the one send in flight at each kill
