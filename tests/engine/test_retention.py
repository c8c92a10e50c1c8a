"""Retention with a frozen clock: each kind goes when it is older than the study file says, its
files with it, nothing younger is touched, and `carbot retention preview` / `carbot status`
say what the next run removes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from bot.engine.retention import preview, retention_once
from bot.services import Services
from storage.models import (
    Attachment,
    AuditLog,
    Code,
    Coding,
    Delivery,
    Digest,
    InboundEvent,
    Memo,
    Reflection,
    Study,
)
from tests.review.conftest import WHEN, World, build_world
from tests.support.schema import create_schema

RETENTION = {
    "reflections": "90 days",
    "evidence": "30 days",
    "inbound_events": "7 days",
    "deliveries": "3 months",
    "digests": "28 days",
    "audit_log": "1 year",
}


async def _count(services: Services, model: type) -> int:
    async with services.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def _study_world(services: Services) -> tuple[World, Path]:
    with time_machine.travel(WHEN, tick=False):
        world = await build_world(services, Path(services.settings.data_dir))
        async with services.sessions() as session, session.begin():
            session.add(
                Study(
                    slug="s",
                    name="S",
                    options={"retention": RETENTION, "consent": {"version": "1", "text": "t"}},
                )
            )
            session.add(InboundEvent(channel="telegram", event_id="update-1"))
            digest = Digest(
                kind="lead_weekly",
                recipient="lead@example.org",
                scope="project:fife-hub",
                period="2027-W09",
                status="sent",
                sent_at=WHEN,
            )
            code = Code(name="Trust", color="#123456", guid="c" * 36)
            session.add_all([digest, code])
            await session.flush()
            session.add(Coding(reflection_id=world.gaelic, code_id=code.id, guid="d" * 36))
            session.add(Memo(reflection_id=world.gaelic, text="a memo", guid="e" * 36))
            session.add(AuditLog(actor="cli", action="something", target="x"))
    return world, _outbox_file(Path(services.settings.outbox_dir), digest.id)


def _outbox_file(outbox: Path, digest_id: int) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    eml = outbox / f"lead_example.org_{digest_id}.eml"
    eml.write_text("Subject: digest\n\nwords")
    return eml


async def test_each_kind_goes_when_older_than_its_period_and_its_files_with_it(
    any_services: Services,
) -> None:
    services = any_services
    world, eml = await _study_world(services)
    photo = Path(services.settings.data_dir) / "evidence" / "board.png"
    reflections = await _count(services, Reflection)

    with time_machine.travel(WHEN + timedelta(days=20), tick=False):
        plan = await preview(services, datetime.now(UTC))
        assert {k: v for k, v in plan.counts.items() if v} == {"inbound_events": 1}
        assert await retention_once(services, datetime.now(UTC)) == 1
    assert await _count(services, InboundEvent) == 0
    assert await _count(services, Attachment) == 1 and photo.exists()

    with time_machine.travel(WHEN + timedelta(days=40), tick=False):
        plan = await preview(services, datetime.now(UTC))
        assert plan.files == sorted([photo, eml])
        await retention_once(services, datetime.now(UTC))
    assert not photo.exists() and not eml.exists()
    assert await _count(services, Attachment) == 0 and await _count(services, Digest) == 0
    assert await _count(services, Reflection) == reflections, "the words stay with evidence gone"

    with time_machine.travel(WHEN + timedelta(days=95), tick=False):
        plan = await preview(services, datetime.now(UTC))
        assert plan.counts["reflections"] == 8, "the eight written in the first four days"
        await retention_once(services, datetime.now(UTC))
    assert await _count(services, Reflection) == reflections - 8
    async with services.sessions() as session:
        left = (await session.scalars(select(Reflection.created_at))).all()
        assert all(at >= WHEN + timedelta(days=5) for at in left)
        kept_deliveries = (await session.scalars(select(Delivery.id))).all()
        # A delivery a kept reflection answers is kept with it.
        answered = set((await session.scalars(select(Reflection.delivery_id))).all())
        assert set(kept_deliveries) <= answered

    with time_machine.travel(WHEN + timedelta(days=120), tick=False):
        await retention_once(services, datetime.now(UTC))
    assert await _count(services, Reflection) == 0
    assert await _count(services, Coding) == 0 and await _count(services, Memo) == 0
    assert await _count(services, Delivery) == 0
    async with services.sessions() as session:
        entries = (await session.scalars(select(AuditLog).order_by(AuditLog.id))).all()
    runs = [e for e in entries if e.action == "retention"]
    assert len(runs) == 4 and runs[0].details["removed"] == {"inbound_events": 1}
    assert any(e.action == "something" for e in entries), "the audit log keeps a year"
    assert world.gaelic


async def test_nothing_is_removed_without_retention_in_the_study_file(services: Services) -> None:
    await _study_world(services)
    async with services.sessions() as session, session.begin():
        study = await session.scalar(select(Study))
        assert study is not None
        study.options = {"consent": {"version": "1", "text": "t"}}
    with time_machine.travel(WHEN + timedelta(days=3000), tick=False):
        assert await retention_once(services, datetime.now(UTC)) == 0
    assert await _count(services, Reflection) == 9


def test_retention_preview_and_status_say_what_the_next_run_removes(
    tmp_path: Path, monkeypatch: object
) -> None:
    import asyncio

    import pytest

    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("CARBOT_DATABASE_URL", settings.database_url)
        mp.setenv("CARBOT_DATA_DIR", str(settings.data_dir))
        mp.setenv("CARBOT_OUTBOX_DIR", str(settings.outbox_dir))

        async def make() -> None:
            services = Services.from_settings(settings)
            await create_schema(services.engine)
            await _study_world(services)
            await services.close()

        asyncio.run(make())
        with time_machine.travel(WHEN + timedelta(days=40), tick=False):
            shown = CliRunner().invoke(main, ["retention", "preview"])
            status = CliRunner().invoke(main, ["status"])
    finally:
        mp.undo()
    assert shown.exit_code == 0, shown.output
    assert "evidence: kept 30 days; 1 older than 2027-03-12" in shown.output
    assert "inbound_events: kept 7 days; 1 older than" in shown.output
    assert "board.png" in shown.output
    assert status.exit_code == 0, status.output
    assert "Retention (the next run at 2027-04-11" in status.output


async def test_the_scheduler_runs_retention_as_a_daily_job(services: Services) -> None:
    from bot.clock import FrozenClock
    from bot.engine.jobs import RETENTION_SECONDS, Jobs

    await _study_world(services)
    jobs = Jobs(services.with_clock(FrozenClock(WHEN + timedelta(days=10))), {}, worker="w1")
    assert jobs.retention_every == RETENTION_SECONDS == 24 * 3600
    done = await jobs.run_steps(jobs.retention_steps())
    assert done == {"retention": 1}
    assert await _count(services, InboundEvent) == 0
