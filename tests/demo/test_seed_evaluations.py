"""The demo's seeded evaluation of its past retreat: enough answers for a summary, nobody named."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from bot.demo.codebook import seed_codebook
from bot.demo.seed import seed_demo
from bot.evaluation.events import find_event
from bot.evaluation.summary import summarise, summary_lines
from bot.review.access import cli_viewer
from bot.services import Services
from bot.study import load_study
from prompts.schedule import is_working_time, working_pattern
from storage.db import transaction
from storage.models import Delivery, Person, Project
from tests.evaluation.helpers import add_event

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
RETREAT = "retreat-2026-11"  # the demo study's past retreat (24–25 November 2026)


async def _demo_with_retreat(services: Services) -> None:
    await load_study(services, ROOT / "examples" / "wws-demo.yaml")
    async with services.sessions() as session:
        if await find_event(session, RETREAT) is not None:
            return  # the demo study file holds it
        projects = list(await session.scalars(select(Project.id)))
    await add_event(
        services, RETREAT, projects, date(2026, 11, 24), date(2026, 11, 25),
        name="Collaborative Action Retreat, Stirling",
    )  # fmt: skip


async def test_the_demo_seeds_an_evaluation_of_its_past_retreat(services: Services) -> None:
    await _demo_with_retreat(services)

    await seed_demo(services, NOW, weeks=6)
    async with transaction(services.sessions) as session:
        assert await seed_codebook(session, None, NOW) > 0

    async with services.sessions() as session:
        event = await find_event(session, RETREAT)
        assert event is not None
        summary = await summarise(session, event, cli_viewer())
        names = list(await session.scalars(select(Person.name)))
        seeded = list(
            await session.scalars(select(Delivery).where(Delivery.prompt_key.like("evaluation-%")))
        )
        people = {p.id: p for p in await session.scalars(select(Person))}
    assert all(not scale.held_back for scale in summary.scales)
    assert all(0.6 <= scale.share_positive <= 1 for scale in summary.scales)
    assert all(not text.held_back and len(text.themes) >= 2 for text in summary.texts)
    assert "Not yet coded" not in {theme for text in summary.texts for theme, _ in text.themes}
    text = "\n".join(summary_lines(summary))
    assert "scored 4 or 5" in text
    assert not any(name in text for name in names)
    for delivery in seeded:
        assert delivery.slot < NOW and delivery.slot.date() == date(2026, 11, 26)
        assert is_working_time(
            delivery.slot, working_pattern(people[delivery.person_id], "Europe/London")
        )


async def test_seeding_the_evaluation_twice_adds_nothing(services: Services) -> None:
    await _demo_with_retreat(services)
    await seed_demo(services, NOW, weeks=6)
    async with services.sessions() as session:
        before = len(list(await session.scalars(select(Delivery.id))))

    report = await seed_demo(services, NOW, weeks=6)

    assert report.deliveries == 0
    async with services.sessions() as session:
        assert len(list(await session.scalars(select(Delivery.id)))) == before
