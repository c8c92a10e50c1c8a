"""Erasing a person: everything of theirs goes, the check finds nothing, one audit line stays."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, String, func, select

from adapters.errors import UsageError
from bot.privacy.erasure import erase_person
from bot.review.throttle import address_digest
from bot.services import Services
from storage.models import AuditLog, Base, Coding, Memo, Reflection
from tests.privacy.world import (
    AILSA_CAPTION,
    AILSA_PRIVATE,
    AILSA_WORDS,
    NOW,
    PHOTO,
    RUAIRIDH_WORDS,
    Privacy,
    build,
)


@pytest.fixture
async def privacy(any_services: Services) -> Privacy:
    return await build(any_services)


def _needles(privacy: Privacy) -> list[str]:
    return [
        "Ailsa Fraser",
        "ailsa.fraser@example.org",
        AILSA_WORDS,
        AILSA_PRIVATE,
        AILSA_CAPTION,
        f"person:{privacy.ailsa_id}",
        address_digest("ailsa.fraser@example.org"),
    ]


async def _everything(services: Services) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table in the metadata, as plain values."""
    found: dict[str, list[dict[str, Any]]] = {}
    async with services.sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).mappings().all()
            found[table.name] = [dict(row) for row in rows]
    return found


def _file_texts(*roots: Path) -> dict[Path, str]:
    """Each file's bytes as text, and for emails every decoded part as well."""
    texts: dict[Path, str] = {}
    for root in roots:
        for path in root.rglob("*") if root.is_dir() else []:
            if not path.is_file():
                continue
            data = path.read_bytes()
            parts = [data.decode("utf-8", "replace")]
            if path.suffix == ".eml":
                message = email.message_from_bytes(data, policy=email.policy.default)
                parts += [
                    str(part.get_content())
                    for part in message.walk()
                    if part.get_content_maintype() == "text"
                ]
            texts[path] = "\n".join(parts)
    return texts


async def test_erasing_a_person_leaves_nothing_of_them_in_any_table_or_file(
    privacy: Privacy,
) -> None:
    services = privacy.services
    before = await _everything(services)
    assert any(AILSA_WORDS in text for text in _file_texts(privacy.outbox_dir).values())
    assert before["review_sessions"] and before["sign_in_throttles"]

    report = await erase_person(
        services, privacy.ailsa_key, actor="cli", reason="asked by email", now=NOW
    )

    assert report.ok, report.lines()
    assert report.remaining == []
    assert report.counts["reflections"] == 4
    assert report.counts["evidence files"] == 1
    assert report.counts["codings"] == 1 and report.counts["memos"] == 1
    assert report.counts["web chat links"] == 2  # the first one and the issued link
    assert report.counts["outbox emails cut"] == 1
    assert report.counts["web accounts"] == 1
    rows_now = await _everything(services)
    assert rows_now["review_sessions"] == []
    assert address_digest("ailsa.fraser@example.org") not in {
        row["address"] for row in rows_now["sign_in_throttles"]
    }
    after = await _everything(services)
    people_columns = [
        (table, column)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if any(key.column.table.name == "people" for key in column.foreign_keys)
    ]
    assert len(people_columns) >= 8
    for table, column in people_columns:
        assert privacy.ailsa_id not in {row[column.name] for row in after[table.name]}, table.name
    assert privacy.ailsa_id not in {row["id"] for row in after["people"]}
    for table in Base.metadata.sorted_tables:
        text_columns = [c.name for c in table.columns if isinstance(c.type, String | JSON)]
        for row in after[table.name]:
            for name in text_columns:
                value = json.dumps(row[name], ensure_ascii=False, default=str)
                for needle in _needles(privacy):
                    if table.name == "memos" and row["guid"] == "memo-code":
                        continue  # the researcher's own memo: listed for them to edit
                    assert needle.casefold() not in value.casefold(), (table.name, name, needle)
    for path, text in _file_texts(privacy.data_dir, privacy.outbox_dir).items():
        for needle in _needles(privacy):
            assert needle not in text, (path, needle)
        assert PHOTO.decode("latin-1") not in path.read_bytes().decode("latin-1")
    assert not privacy.photo_path.exists()
    assert [str(m) for m in report.mentions] == [
        f"memos.text (id {_memo_id(after, 'memo-code')}): words from one of their answers"
    ]
    shown = "\n".join(report.lines()).casefold()
    assert not [n for n in _needles(privacy) if n.casefold() in shown]  # never the words
    [line] = [row for row in after["audit_log"] if row["action"] == "people.erase"]
    assert line["target"] == privacy.ailsa_code and line["actor"] == "cli"
    assert line["details"]["reason"] == "asked by email"
    assert line["details"]["verified"] is True
    assert line["details"]["counts"]["reflections"] == 4
    # Ruairidh's answer, its coding and memo, and the codebook are as they were
    for table in ("codes", "studies", "projects", "phases"):
        assert after[table] == before[table]
    assert [r for r in after["reflections"]] == [
        r for r in before["reflections"] if r["person_id"] == privacy.ruairidh_id
    ]
    assert [r["text"] for r in after["reflections"]] == [RUAIRIDH_WORDS]
    assert len(after["codings"]) == 1 and len(after["memos"]) == 2


def _memo_id(rows: dict[str, list[dict[str, Any]]], guid: str) -> int:
    return next(int(row["id"]) for row in rows["memos"] if row["guid"] == guid)


async def test_the_search_index_no_longer_finds_their_words(privacy: Privacy) -> None:
    from bot.review.access import cli_viewer
    from bot.review.search import Filters, search

    async with privacy.services.sessions() as session:
        found = await search(session, cli_viewer(), Filters(q="kettle calmer"), 1)
    assert len(found.reflections) == 1

    await erase_person(privacy.services, privacy.ailsa_key, actor="cli", reason="asked", now=NOW)

    async with privacy.services.sessions() as session:
        assert (
            await search(session, cli_viewer(), Filters(q="kettle calmer"), 1)
        ).reflections == []
        still = await search(session, cli_viewer(), Filters(q="holiday club"), 1)
    assert [r.text for r in still.reflections] == [RUAIRIDH_WORDS]


async def test_a_dry_run_counts_what_would_go_and_changes_nothing(privacy: Privacy) -> None:
    before = await _everything(privacy.services)
    files = _file_texts(privacy.data_dir, privacy.outbox_dir)

    report = await erase_person(
        privacy.services, privacy.ailsa_key, actor="cli", reason="asked", now=NOW, dry_run=True
    )

    assert report.counts["reflections"] == 4
    assert report.counts["outbox emails to cut"] == 1
    assert "Would delete" in report.lines()[0]
    assert await _everything(privacy.services) == before
    assert _file_texts(privacy.data_dir, privacy.outbox_dir) == files


async def test_a_reason_that_names_the_person_is_refused_before_anything_is_deleted(
    privacy: Privacy,
) -> None:
    with pytest.raises(UsageError, match="name the person"):
        await erase_person(
            privacy.services,
            privacy.ailsa_key,
            actor="cli",
            reason="Ailsa Fraser phoned",
            now=NOW,
        )
    async with privacy.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Reflection)) == 5


async def test_a_copy_of_their_evidence_left_behind_makes_the_erasure_fail_loudly(
    privacy: Privacy,
) -> None:
    backup = privacy.data_dir / "backup" / "signage-copy.jpg"
    backup.parent.mkdir(parents=True)
    backup.write_bytes(PHOTO)

    report = await erase_person(
        privacy.services, privacy.ailsa_key, actor="cli", reason="asked", now=NOW
    )

    assert not report.ok
    assert [str(f) for f in report.remaining] == [f"file {backup}: one of their evidence files"]
    assert "ERASURE INCOMPLETE" in "\n".join(report.lines())
    async with privacy.services.sessions() as session:
        line = await session.scalar(select(AuditLog).where(AuditLog.action == "people.erase"))
        assert line is not None and line.details["verified"] is False
        assert await session.scalar(select(func.count()).select_from(Coding)) == 1
        assert await session.scalar(select(func.count()).select_from(Memo)) == 2
