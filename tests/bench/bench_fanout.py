"""Benchmark: prompts due at one instant, sent by ``carbot run`` itself.

N participants with Telegram chats, one project whose cadence sends at 10:00 on Tuesdays. The
benchmark plans the prompts (``plan_once`` before 10:00), then starts the worker as an admin
would: ``carbot run --demo-start <a few seconds before 10:00>`` in a process of its own, with its
settings in the environment, so the worker imports, builds and runs exactly what ``carbot run``
does (the web app, the configured channels — here only Telegram, the real python-telegram-bot
against the fake Bot API — and :class:`bot.engine.jobs.Jobs`: the engine tick's planner, a full
run over everyone on its first tick, and the sending loop). The fake runs in a process of its own
on loopback, enforcing 30 messages a second overall and one a second per chat, answering 429 with
``retry_after`` past them. The worker's clock is real time from its start.

Measured: time from 10:00 to the fake's last delivered message ÷ (N ÷ 30 s) (target ≤ 1.10;
"10:00" is taken as the worker's start plus the lead, so the worker's own start-up counts
against it), the fake's 429s, chats that got a message twice, prompts not delivered, and the
worker's peak resident memory (``VmHWM`` of its ``/proc/PID/status``, read before it is
stopped; target ≤ 200 MB at 10,000). One worker on SQLite; two worker processes on PostgreSQL,
sharing only the database. Each scenario has a hard time limit. With ``CARBOT_BENCH_BASELINE``
set to another checkout's folder, each scenario runs first with that checkout's worker (same
database set-up, same fake), so two versions are compared side by side in one run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bot.engine.planner import plan_once
from bot.services import Services
from storage.db import upgrade_async
from storage.models import (
    Base,
    ChannelIdentity,
    ConsentRecord,
    Cycle,
    Delivery,
    Membership,
    Partnership,
    Person,
    Phase,
    Project,
)
from tests.conftest import POSTGRES_URL, fresh_postgres_database, make_settings
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI, fake_stats

PER_SECOND = 30
DUE = datetime(2027, 3, 9, 10, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Fife (GMT)
LEAD = 4.0  # seconds of real time between an in-process scheduler starting and 10:00
WORKER_LEAD = 8.0  # … and between starting a `carbot run` process and 10:00 (it imports first)
MEMORY_TARGET_MB = 200
CARBOT = "import sys; from bot.cli import main; sys.exit(main())"  # `carbot`, from any checkout
CADENCE = {"weekdays": ["tue"], "per_week": 1, "at": "10:00"}
_BASELINE = os.environ.get("CARBOT_BENCH_BASELINE")
BASELINE = Path(_BASELINE).resolve() if _BASELINE else None  # another checkout's worker, first
SIZES = tuple(int(n) for n in os.environ.get("CARBOT_BENCH_FANOUT", "1000,10000").split(","))


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """A process's resident memory now and at its peak (VmRSS, VmHWM), in MB (Linux /proc);
    this process's by default."""
    fields: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


async def populate(
    services: Services,
    people: int,
    *,
    projects: int = 1,
    cadence: dict[str, Any] | None = None,
    channel: str = "telegram",
    workspace: str = "",
) -> None:
    """A partnership, ``projects`` projects in their exploring-evidence phase, ``people``
    participants (spread over the projects) with consent and a chat each (bulk inserts: the
    setup is not what is measured)."""
    async with services.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with services.sessions() as session, session.begin():
        partnership = Partnership(slug="fife", name="Fife", timezone="Europe/London")
        made = []
        for n in range(projects):
            project = Project(
                partnership=partnership,
                slug=f"project-{n}",
                name=f"Project {n}",
                cadence=cadence or CADENCE,
            )
            cycle = Cycle(
                project=project,
                key="c1",
                name="Cycle 1",
                starts_on=date(2027, 1, 4),
                ends_on=date(2027, 12, 31),
            )
            cycle.phases = [
                Phase(
                    key="exploring-evidence",
                    name="Exploring evidence",
                    starts_on=date(2027, 1, 4),
                    ends_on=date(2027, 12, 31),
                )
            ]
            made.append(project)
        session.add_all(made)
        await session.flush()
        project_ids = [project.id for project in made]
        linked = DUE - timedelta(days=30)
        for start in range(0, people, 2000):
            numbers = range(start, min(people, start + 2000))
            ids = list(
                await session.scalars(
                    insert(Person).returning(Person.id),
                    [
                        {"key": f"p{n}", "study_code": f"P{n:05d}", "name": f"P {n}"}
                        for n in numbers
                    ],
                )
            )
            pairs = list(zip(ids, numbers, strict=True))
            await session.execute(
                insert(Membership),
                [
                    {"person_id": i, "project_id": project_ids[n % projects], "role": "participant"}
                    for i, n in pairs
                ],
            )
            await session.execute(
                insert(ChannelIdentity),
                [
                    {
                        "person_id": i,
                        "channel": channel,
                        "external_id": str(500_000 + n),
                        "workspace": workspace,
                        "linked_at": linked,
                    }
                    for i, n in pairs
                ],
            )
            await session.execute(
                insert(ConsentRecord),
                [
                    {
                        "person_id": i,
                        "version": "1",
                        "text_sha256": "0" * 64,
                        "channel": channel,
                        "given_at": linked,
                    }
                    for i in ids
                ],
            )


async def count_sent(services: Services) -> int:
    async with services.sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.sent_at.is_not(None))
            )
            or 0
        )


@asynccontextmanager
async def _database(kind: str) -> AsyncIterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'carbot.db'}"
    else:
        async with fresh_postgres_database() as url:
            yield url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker_environment(url: str, base: str, folder: Path, source: Path | None) -> dict[str, str]:
    """``carbot run``'s settings for one worker, as an admin would give them (no .env is read:
    the worker runs in ``folder``). ``source``: run another checkout's code."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("CARBOT_") and k != "DATABASE_URL"
    }
    env.update(
        CARBOT_DATABASE_URL=url,
        CARBOT_DATA_DIR=str(folder / "data"),
        CARBOT_OUTBOX_DIR=str(folder / "outbox"),
        CARBOT_SECRET_KEY="bench-secret-key-not-for-production",
        CARBOT_TELEGRAM_TOKEN=TOKEN,
        CARBOT_TELEGRAM_API_BASE_URL=base,
        CARBOT_DISPATCH_LEASE_SECONDS="120",
        CARBOT_WEB_PORT=str(_free_port()),
        CARBOT_LOG_LEVEL="WARNING",
    )
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return env


def start_worker(url: str, base: str, folder: Path, source: Path | None) -> subprocess.Popen[bytes]:
    """``carbot run --demo-start <LEAD seconds before 10:00>`` in a process of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    start = (DUE - timedelta(seconds=WORKER_LEAD)).isoformat()
    return subprocess.Popen(
        [sys.executable, "-c", CARBOT, "run", "--demo-start", start],
        cwd=folder,
        env=_worker_environment(url, base, folder, source),
        stdout=(folder / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


async def stop_worker(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as an admin stops it; SIGKILL if it does not stop within 30 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    for _ in range(300):
        if process.poll() is not None:
            return process.returncode
        await asyncio.sleep(0.1)
    process.kill()
    return process.wait()


async def scenario(
    kind: str, people: int, workers: int, source: Path | None = None
) -> dict[str, Any]:
    floor = people / PER_SECOND
    limit = floor * 2 + 120  # the hard limit for the sending, beyond setup
    rss_peak = hwm = 0.0
    async with _database(kind) as url:
        with (
            tempfile.TemporaryDirectory() as tmp,
            FakeTelegramAPI.in_subprocess(per_second=PER_SECOND, per_chat_interval=1.0) as base,
        ):
            folder = Path(tmp)
            services = Services.from_settings(make_settings(folder / "bench", url))
            processes: list[subprocess.Popen[bytes]] = []
            stopped: list[int] = []
            try:
                await upgrade_async(url)  # carbot run starts only on the newest schema
                await populate(services, people)
                started = time.perf_counter()
                planned = await plan_once(services, DUE - timedelta(minutes=5))
                plan_seconds = time.perf_counter() - started
                due_wall = time.time() + WORKER_LEAD
                processes = [
                    start_worker(url, base, folder / f"w{n}", source) for n in range(workers)
                ]
                deadline = time.monotonic() + WORKER_LEAD + limit
                sent = 0
                while time.monotonic() < deadline:
                    if any(process.poll() is not None for process in processes):
                        break  # a worker died: its log says why
                    for process in processes:
                        now, peak = rss_mb(process.pid)
                        rss_peak, hwm = max(rss_peak, now), max(hwm, peak)
                    sent = await count_sent(services)
                    if sent >= planned:
                        break
                    await asyncio.sleep(0.5)
                for process in processes:
                    if process.poll() is None:
                        hwm = max(hwm, rss_mb(process.pid)[1])
            finally:
                for process in processes:
                    stopped.append(await stop_worker(process))
                await services.close()
            stats = await fake_stats(base)
            logs = "".join(
                (folder / f"w{n}" / "worker.log").read_text(errors="replace")
                for n in range(workers)
            )
    last = stats["last_at"] or time.time()
    return {
        "kind": kind,
        "people": people,
        "workers": workers,
        "source": "baseline" if source is not None else "this checkout",
        "planned": planned,
        "plan_seconds": plan_seconds,
        "seconds": last - due_wall,
        "ratio": (last - due_wall) / floor,
        "first_after": (stats["first_at"] or last) - due_wall,
        "too_many": stats["too_many_requests"],
        "duplicates": stats["duplicates"],
        "lost": planned - stats["chats"],
        "rows_sent": sent,
        "timed_out": sent < planned,
        "rss_peak_mb": rss_peak,
        "hwm_mb": hwm,
        "exit_codes": stopped,
        "errors": [line for line in logs.splitlines() if " ERROR " in line][:5],
    }


def line(result: dict[str, Any]) -> str:
    where = "SQLite, 1 worker " if result["kind"] == "sqlite" else "PostgreSQL, 2 workers"
    verdict = "ok" if result["ratio"] <= 1.10 and not result["too_many"] else "MISSED"
    memory = "ok" if result["hwm_mb"] <= MEMORY_TARGET_MB else "MISSED"
    failed = [code for code in result["exit_codes"] if code != 0]
    return (
        f"{where} {result['people']:>6} due ({result['source']}): last send "
        f"{result['seconds']:7.1f} s after due = {result['ratio']:.3f} × floor ({verdict}); "
        f"first {result['first_after']:.2f} s; "
        f"{result['too_many']} × 429, {result['duplicates']} duplicates, {result['lost']} lost"
        f"{' (TIMED OUT)' if result['timed_out'] else ''}; "
        f"planned in {result['plan_seconds']:.1f} s; "
        f"worker peak memory {result['hwm_mb']:.0f} MB (VmHWM; target ≤ {MEMORY_TARGET_MB} MB: "
        f"{memory})"
        + (f"; worker exit {failed}" if failed else "")
        + "".join(f"\n    worker: {error}" for error in result["errors"])
    )


async def main() -> list[str]:
    lines = [
        f"fake Bot API enforcing {PER_SECOND} msg/s overall and 1 msg/s per chat; "
        f"floor = N ÷ {PER_SECOND} s; target ≤ 1.10 × floor, no 429; each worker is a "
        f"`carbot run` process"
    ]
    sources = [BASELINE, None] if BASELINE is not None else [None]
    for people in SIZES:
        runs = [("sqlite", 1)] + ([("postgresql", 2)] if POSTGRES_URL else [])
        for kind, workers in runs:
            for source in sources:
                # a hard limit on the whole scenario (setup included); the sending has its own
                async with asyncio.timeout(people / PER_SECOND * 2 + 900):
                    result = await scenario(kind, people, workers, source)
                lines.append(line(result))
                print("  " + lines[-1], flush=True)
        if not POSTGRES_URL:
            lines.append("PostgreSQL: skipped (CARBOT_TEST_POSTGRES_URL is not set)")
    return lines
