"""Benchmark: dispatch. 1,000 due deliveries sent through a recording channel by one worker on
SQLite, and by two workers sharing PostgreSQL when ``CARBOT_TEST_POSTGRES_URL`` is set (each
delivery exactly once, checked)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

from bot.services import Services
from tests.conftest import POSTGRES_URL, fresh_postgres_database, make_settings
from tests.engine.test_two_dispatchers import drain, interleaving, plan_many, schema
from tests.engine.world import make_world

COUNT = 1_000


async def _run(url: str, folder: Path, workers: int) -> str:
    pool = [Services.from_settings(make_settings(folder, url)) for _ in range(workers)]
    try:
        await schema(pool[0])
        world = await make_world(pool[0], people=50)
        await plan_many(pool[0], world, COUNT)
        channels = [interleaving() for _ in pool]
        started = time.perf_counter()
        totals = await asyncio.gather(
            *(
                drain(s, c, f"worker-{n}")
                for n, (s, c) in enumerate(zip(pool, channels, strict=True))
            )
        )
        elapsed = time.perf_counter() - started
        sent = Counter(p.delivery_id for c in channels for p in c.prompts)
        assert len(sent) == COUNT and set(sent.values()) == {1}, "a delivery was not sent once"
        split = " + ".join(str(t) for t in totals)
        return f"{COUNT} deliveries in {elapsed:.2f} s ({COUNT / elapsed:.0f}/s; {split})"
    finally:
        for services in pool:
            await services.close()


async def main() -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'carbot.db'}"
        lines.append("SQLite, one worker: " + await _run(url, Path(folder), 1))
    if POSTGRES_URL:
        with tempfile.TemporaryDirectory() as folder:
            async with fresh_postgres_database() as url:
                lines.append("PostgreSQL, two workers: " + await _run(url, Path(folder), 2))
    else:
        lines.append("PostgreSQL: skipped (CARBOT_TEST_POSTGRES_URL is not set)")
    return lines
