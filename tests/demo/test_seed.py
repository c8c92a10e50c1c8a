"""`carbot demo seed`: plausible answers, consistent with the model, and never doubled."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.demo.seed import seed_demo
from bot.services import Services
from bot.study import load_study
from prompts.schedule import is_working_time, working_pattern
from storage.models import Attachment, Delivery, Project, Reflection

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def counts(services: Services) -> tuple[int, int, int]:
    async with services.sessions() as session:
        return (
            await session.scalar(select(func.count()).select_from(Delivery)) or 0,
            await session.scalar(select(func.count()).select_from(Reflection)) or 0,
            await session.scalar(select(func.count()).select_from(Attachment)) or 0,
        )


async def test_seeding_fills_six_weeks_that_read_like_real_fieldwork(services: Services) -> None:
    await load_study(services, ROOT / "examples" / "wws-demo.yaml")

    report = await seed_demo(services, NOW, weeks=6)

    assert report.deliveries > 150 and report.reflections > 100 and 3 <= report.files <= 12
    async with services.sessions() as session:
        deliveries = list(
            await session.scalars(
                select(Delivery).options(
                    selectinload(Delivery.person),
                    selectinload(Delivery.project).selectinload(Project.partnership),
                )
            )
        )
        reflections = list(
            await session.scalars(select(Reflection).options(selectinload(Reflection.attachments)))
        )
    statuses = Counter(d.status for d in deliveries)
    assert set(statuses) == {"answered", "expired", "skipped"}
    assert statuses["answered"] > statuses["expired"] > statuses["skipped"] > 0
    for delivery in deliveries:
        pattern = working_pattern(delivery.person, delivery.project.partnership.timezone)
        assert is_working_time(delivery.slot, pattern), "a seeded prompt outside working hours"
        assert delivery.sent_at == delivery.slot < NOW
        assert delivery.phase_id is not None and delivery.identity_id is not None
    answered = {d.id for d in deliveries if d.status == "answered"}
    answers = Counter(r.delivery_id for r in reflections if r.delivery_id is not None)
    assert set(answers) == answered and set(answers.values()) == {1}
    assert len({d.person_id for d in deliveries}) >= 15
    assert len({d.project_id for d in deliveries}) == 11
    assert {r.kind for r in reflections} >= {"text", "scale", "choice", "evidence", "note"}
    assert len({r.audience for r in reflections}) == 4
    texts = [r.text for r in reflections if r.kind == "text"]
    assert len(set(texts)) > len(texts) * 0.8
    files = [a for r in reflections for a in r.attachments]
    assert {a.kind for a in files} <= {"photo", "voice"} and files
    for attachment in files:
        data = (services.settings.data_dir / attachment.path).read_bytes()
        assert len(data) == attachment.size
        assert data.startswith(b"\x89PNG" if attachment.kind == "photo" else b"RIFF")


async def test_seeding_twice_adds_nothing(services: Services) -> None:
    await load_study(services, ROOT / "examples" / "wws-demo.yaml")
    await seed_demo(services, NOW, weeks=3)
    first = await counts(services)

    again = await seed_demo(services, NOW, weeks=3)

    assert (again.deliveries, again.reflections, again.files) == (0, 0, 0)
    assert await counts(services) == first
