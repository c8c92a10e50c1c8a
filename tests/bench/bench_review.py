"""Review workspace: search and filter over 100,000 generated reflections.

Reports p50 and p95 of one reflections page (count + 25 rows with their context) per query, on
SQLite (a temp file) and on PostgreSQL when ``CARBOT_TEST_POSTGRES_URL`` is set or a local
server answers on 127.0.0.1:5432 (a fresh database is made and dropped).
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.review.access import Viewer
from bot.review.search import Filters, search
from storage import fts
from storage.db import create_engine, session_factory
from storage.models import (
    AUDIENCES,
    Base,
    Cycle,
    Delivery,
    Membership,
    Partnership,
    Person,
    Phase,
    Project,
    Reflection,
)

REFLECTIONS = int(os.environ.get("CARBOT_BENCH_REFLECTIONS", "100000"))
RUNS = 25
PROJECTS = 20
PEOPLE = 400
PHASES = ("scoping", "exploring-evidence", "testing-change")
KINDS = ("text", "text", "text", "scale", "choice", "evidence")
WORDS = [
    "family",
    "hub",
    "referral",
    "waiting",
    "list",
    "housing",
    "officer",
    "meeting",
    "school",
    "nurse",
    "visit",
    "parents",
    "trust",
    "partnership",
    "data",
    "evidence",
    "change",
    "tested",
    "week",
    "team",
    "pressure",
    "time",
    "leave",
    "cover",
    "rota",
    "community",
    "centre",
    "library",
    "volunteers",
    "funding",
    "report",
    "board",
    "staff",
    "training",
    "learning",
    "smaoineachadh",
    "sgìre",
    "coimhearsnachd",
    "teaghlach",
]
START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))


async def _fill(url: str) -> None:
    rng = random.Random(7)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        await connection.execute(
            insert(Partnership),
            [{"id": i, "slug": f"p{i}", "name": f"Partnership {i}"} for i in range(1, 6)],
        )
        await connection.execute(
            insert(Project),
            [
                {
                    "id": i,
                    "partnership_id": 1 + i % 5,
                    "slug": f"project-{i}",
                    "name": f"Project {i}",
                }
                for i in range(1, PROJECTS + 1)
            ],
        )
        await connection.execute(
            insert(Cycle),
            [
                {
                    "id": i,
                    "project_id": i,
                    "key": "c1",
                    "name": "Cycle 1",
                    "starts_on": date(2027, 1, 1),
                    "ends_on": date(2027, 12, 31),
                }
                for i in range(1, PROJECTS + 1)
            ],
        )
        await connection.execute(
            insert(Phase),
            [
                {
                    "id": (i - 1) * 3 + n + 1,
                    "cycle_id": i,
                    "key": key,
                    "name": key.title(),
                    "position": n,
                    "starts_on": date(2027, 1, 1),
                    "ends_on": date(2027, 12, 31),
                }
                for i in range(1, PROJECTS + 1)
                for n, key in enumerate(PHASES)
            ],
        )
        await connection.execute(
            insert(Person),
            [
                {"id": i, "key": f"person-{i}", "study_code": f"P-{i:04d}", "name": f"Person {i}"}
                for i in range(1, PEOPLE + 2)
            ],
        )
        await connection.execute(
            insert(Membership),
            [{"person_id": PEOPLE + 1, "project_id": i, "role": "researcher"} for i in range(1, 6)],
        )
        deliveries, reflections = [], []
        for i in range(1, REFLECTIONS + 1):
            project = rng.randint(1, PROJECTS)
            phase = (project - 1) * 3 + rng.randint(1, 3)
            when = START + timedelta(minutes=i * 3)
            deliveries.append(
                {
                    "id": i,
                    "person_id": rng.randint(1, PEOPLE),
                    "project_id": project,
                    "slot": when,
                    "due_at": when,
                    "cycle_id": project,
                    "phase_id": phase,
                    "prompt_key": f"prompt-{rng.randint(1, 30)}",
                    "prompt_kind": "text",
                    "prompt_text": "What did you notice this week?",
                    "status": "answered",
                }
            )
            reflections.append(
                {
                    "id": i,
                    "person_id": deliveries[-1]["person_id"],
                    "project_id": project,
                    "delivery_id": i,
                    "cycle_id": project,
                    "phase_id": phase,
                    "kind": rng.choice(KINDS),
                    "text": _text(rng),
                    "audience": rng.choice(AUDIENCES),
                    "channel": "telegram",
                    "created_at": when,
                    "updated_at": when,
                }
            )
            if len(reflections) == 5000:
                await connection.execute(insert(Delivery), deliveries)
                await connection.execute(insert(Reflection), reflections)
                deliveries, reflections = [], []
        if reflections:
            await connection.execute(insert(Delivery), deliveries)
            await connection.execute(insert(Reflection), reflections)
        await connection.run_sync(fts.ensure_fulltext)
    await engine.dispose()


QUERIES: list[tuple[str, str, Filters]] = [
    ("newest page, no filter", "admin", Filters()),
    ("project + phase", "researcher", Filters(project=3, phase="exploring-evidence")),
    (
        "partnership + date range",
        "admin",
        Filters(partnership=2, date_from=date(2027, 2, 1), date_to=date(2027, 2, 28)),
    ),
    ("prompt + answer type", "researcher", Filters(prompt="prompt-7", answer_type="text")),
    ("full text, one word", "admin", Filters(q="referral")),
    ("full text, two words + project", "researcher", Filters(q="housing pressure", project=2)),
    ("full text, rare word", "admin", Filters(q="coimhearsnachd teaghlach smaoineachadh")),
]


async def _measure(url: str, label: str) -> list[str]:
    await _fill(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    viewers = {
        "admin": Viewer(user_id=1, email="admin", is_admin=True),
        "researcher": Viewer(
            user_id=2, email="researcher", researcher_projects=frozenset(range(1, 6))
        ),
    }
    lines = []
    try:
        for name, role, filters in QUERIES:
            timings, total = [], 0
            for _ in range(RUNS):
                started = time.perf_counter()
                async with sessions() as session:
                    total = (await search(session, viewers[role], filters)).total
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
            lines.append(
                f"{label:10} {name:32} {total:6} hits  "
                f"p50 {statistics.median(timings):7.1f} ms  p95 {p95:7.1f} ms"
            )
    finally:
        await engine.dispose()
    return lines


async def _postgres_url() -> str | None:
    url = (
        os.environ.get("CARBOT_TEST_POSTGRES_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    try:
        import asyncpg  # type: ignore[import-untyped]

        connection = await asyncpg.connect(url, timeout=3)
        await connection.close()
    except Exception:
        return None
    return url


async def main() -> list[str]:
    lines = [f"{REFLECTIONS} reflections, {PROJECTS} projects, {RUNS} runs per query"]
    with tempfile.TemporaryDirectory() as folder:
        lines += await _measure(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", "sqlite")
    admin_url = await _postgres_url()
    if admin_url is None:
        lines.append("postgresql: skipped (no server; set CARBOT_TEST_POSTGRES_URL)")
        return lines
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"carbot_bench_{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
        lines += await _measure(url.render_as_string(hide_password=False), "postgresql")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return lines
