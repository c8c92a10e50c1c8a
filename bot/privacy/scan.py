"""The check after an erasure: does anything of the person remain, in any table or file?

Every table in ``Base.metadata`` is read, so a table added later is checked without anyone
remembering to: its foreign keys to the person's rows, and every text and JSON column for their
identifiers (key, email, platform ids), their name and the words they wrote. On SQLite the
full-text index is asked for their words too. Then the data directory and the outbox are read:
evidence files (by content hash) and digest emails (addressed to them, or quoting them).

What other people wrote about them (researchers' memos and code descriptions, other
participants' reflections) is not theirs to delete: it is reported as a *mention*, to be edited
by whoever wrote it. Anything else is *remaining*, and an erasure with remaining data failed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, String, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy import outbox
from bot.privacy.subject import Matcher, Subject
from storage.fts import FTS_TABLE, has_fulltext, words
from storage.models import Attachment, Base

# Text that other people wrote: a mention of the person is theirs to edit, not carbot's.
OTHERS_WRITING = {"memos", "codes"}
HASH_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    where: str  # "memos.text (id 12)", "file outbox/2027-W10_….eml"
    what: str  # "their name", "people.id", "alex@example.org"

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class ScanResult:
    remaining: list[Finding] = field(default_factory=list)
    mentions: list[Finding] = field(default_factory=list)
    tables: int = 0
    files: int = 0

    @property
    def clean(self) -> bool:
        return not self.remaining


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _text_columns(table: Table) -> list[Any]:
    return [c for c in table.columns if isinstance(c.type, String | JSON)]


async def _scan_table(
    session: AsyncSession, table: Table, subject: Subject, matcher: Matcher, result: ScanResult
) -> None:
    ids = subject.ids
    pk = list(table.primary_key.columns)
    own = ids.get(table.name)
    if own and len(pk) == 1:
        left = await session.scalar(select(func.count()).select_from(table).where(pk[0].in_(own)))
        if left:
            result.remaining.append(Finding(table.name, f"{left} of their rows"))
    for column in table.columns:
        for key in column.foreign_keys:
            targets = ids.get(key.column.table.name)
            if not targets:
                continue
            left = await session.scalar(
                select(func.count()).select_from(table).where(column.in_(targets))
            )
            if left:
                where = f"{table.name}.{column.name}"
                result.remaining.append(
                    Finding(where, f"{left} rows point at their {key.column.table.name}")
                )
    columns = _text_columns(table)
    if not columns:
        return
    author = table.c.get("person_id") if table.name == "reflections" else None
    shown = [*pk, *([author] if author is not None else []), *columns]
    for row in (await session.execute(select(*shown))).all():
        values = row._mapping
        label = ",".join(str(values[c]) for c in pk)
        for column in columns:
            value = values[column]
            if value is None or value == "" or value == {} or value == []:
                continue
            someone_else = author is not None and values[author] != subject.person_id
            others = table.name in OTHERS_WRITING or someone_else
            for hit in matcher.found(_as_text(value), own_words=someone_else):
                finding = Finding(f"{table.name}.{column.name} (id {label})", hit)
                (result.mentions if others else result.remaining).append(finding)


async def _scan_search_index(session: AsyncSession, subject: Subject, result: ScanResult) -> None:
    if session.get_bind().dialect.name != "sqlite" or not subject.reflection_ids:
        return
    connection = await session.connection()
    if not await connection.run_sync(has_fulltext):
        return
    theirs = set(subject.reflection_ids)
    for phrase in subject.texts:
        terms = words(phrase)[:12]
        if not terms:
            continue
        query = " ".join(f'"{term}"' for term in terms)
        rows = await session.execute(
            text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q"), {"q": query}
        )
        stale = theirs & {int(rowid) for (rowid,) in rows}
        if stale:
            result.remaining.append(Finding(FTS_TABLE, f"{len(stale)} index entries of theirs"))
            return


def _hash(path: Path) -> str | None:
    if path.stat().st_size > HASH_LIMIT:
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scan_files(
    subject: Subject, matcher: Matcher, roots: list[Path], shared: set[str], result: ScanResult
) -> None:
    """Evidence files with their content (unless another person's evidence is the same bytes)
    and outbox emails that are theirs or quote them."""
    theirs = {sha for _path, sha in subject.evidence} - shared
    seen: set[Path] = set()
    for root in roots:
        if not Path(root).is_dir():
            continue
        for path in sorted(Path(root).rglob("*")):
            resolved = path.resolve()
            if not path.is_file() or resolved in seen:
                continue
            seen.add(resolved)
            result.files += 1
            if path.suffix == ".eml":
                hit = outbox.check(subject, matcher, path)
                for what in hit.found if hit else []:
                    result.remaining.append(Finding(f"file {path}", what))
                continue
            if theirs and (path.stem in theirs or _hash(path) in theirs):
                result.remaining.append(Finding(f"file {path}", "one of their evidence files"))


async def scan(session: AsyncSession, subject: Subject, roots: list[Path]) -> ScanResult:
    """What of ``subject`` is still held: every table of the metadata, then the files."""
    matcher = subject.matcher()
    result = ScanResult()
    for table in Base.metadata.sorted_tables:
        result.tables += 1
        await _scan_table(session, table, subject, matcher, result)
    await _scan_search_index(session, subject, result)
    shared: set[str] = set()
    shas = [sha for _path, sha in subject.evidence]
    if shas:
        shared = set(
            await session.scalars(
                select(Attachment.sha256).where(
                    Attachment.sha256.in_(shas),
                    Attachment.reflection_id.not_in(subject.reflection_ids),
                )
            )
        )
    scan_files(subject, matcher, roots, shared, result)
    return result
