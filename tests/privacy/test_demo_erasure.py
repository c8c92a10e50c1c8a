"""Erasing a person of the demo study, after six weeks of seeded fieldwork and sent digests."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.channels.webchat import issue_webchat_link
from bot.demo.seed import seed_demo
from bot.engine.digest_jobs import send_due_digests
from bot.privacy.erasure import erase_person
from bot.services import Services
from bot.study import load_study
from storage.db import transaction
from storage.models import Attachment, Base, Code, Coding, Memo, Person, Reflection

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def _richest(services: Services) -> Person:
    """The demo person with evidence and the most kinds of answer."""
    async with services.sessions() as session:
        with_files = set(
            await session.scalars(
                select(Reflection.person_id).join(
                    Attachment, Attachment.reflection_id == Reflection.id
                )
            )
        )
        kinds = (await session.execute(select(Reflection.person_id, Reflection.kind))).all()
        variety = Counter(person for person, _kind in set(kinds))
        best = max(with_files, key=lambda person: (variety[person], -person))
        person = await session.get(Person, best)
    assert person is not None
    return person


async def test_a_demo_person_is_erased_with_nothing_left_and_the_others_untouched(
    any_services: Services,
) -> None:
    services = any_services
    await load_study(services, ROOT / "examples" / "wws-demo.yaml")
    await seed_demo(services, NOW, weeks=6)
    person = await _richest(services)
    async with transaction(services.sessions) as session:
        [text] = (
            await session.scalars(
                select(Reflection)
                .where(Reflection.person_id == person.id, Reflection.kind == "text")
                .limit(1)
            )
        ).all()
        code = Code(guid="demo-code-0001", name="Trust")
        session.add(code)
        await session.flush()
        session.add(Coding(guid="demo-coding-1", code_id=code.id, reflection_id=text.id))
        session.add(Memo(guid="demo-memo-1", reflection_id=text.id, text="Compare with week 2"))
        await issue_webchat_link(session, person, now=NOW)
    await send_due_digests(services, NOW)
    async with services.sessions() as session:
        kinds = set(
            await session.scalars(select(Reflection.kind).where(Reflection.person_id == person.id))
        )
        others = await session.scalar(
            select(func.count()).select_from(Reflection).where(Reflection.person_id != person.id)
        )
    assert {"text", "scale", "evidence"} <= kinds

    report = await erase_person(services, person.key, actor="cli", reason="asked", now=NOW)

    assert report.ok, report.lines()
    assert report.scan.tables == len(Base.metadata.tables)
    assert report.counts["evidence files"] >= 1 and report.counts["codings"] == 1
    async with services.sessions() as session:
        assert await session.get(Person, person.id) is None
        assert others == await session.scalar(select(func.count()).select_from(Reflection))
