"""Finding reflections: the access rule, the filters, full-text search and paging, in one query.

Every list of reflections (the reflections page, exports, the CLI) goes through
:func:`conditions`, so the access rule of :mod:`bot.review.access` is never left out.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import selectinload

from adapters.numbers import strict_id
from bot.review.access import Viewer, masked, unlinkable_rank, visible
from storage import fts
from storage.models import (
    Attachment,
    Code,
    Coding,
    Delivery,
    Phase,
    Project,
    Reflection,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
ANSWER_TYPES = ("text", "scale", "choice", "evidence", "note", "feedback")


@dataclass(frozen=True)
class Filters:
    """What a person narrowed the reflections down to. Empty fields do not filter."""

    partnership: int | None = None
    project: int | None = None
    cycle: int | None = None
    phase: str = ""  # a phase key, across cycles ("scoping")
    research_question: int | None = None
    prompt: str = ""  # a prompt key
    code: int | None = None  # this code or any code beneath it
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    answer_type: str = ""
    has_evidence: bool | None = None
    q: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Filters:
        """Filters from a query string or form; values that do not parse are ignored."""

        def number(name: str) -> int | None:
            return strict_id((params.get(name) or "").strip())

        def day(name: str) -> date | None:
            try:
                return date.fromisoformat((params.get(name) or "").strip())
            except ValueError:
                return None

        evidence = (params.get("has_evidence") or "").strip()
        answer_type = (params.get("answer_type") or "").strip()
        return cls(
            partnership=number("partnership"),
            project=number("project"),
            cycle=number("cycle"),
            phase=(params.get("phase") or "").strip()[:80],
            research_question=number("research_question"),
            prompt=(params.get("prompt") or "").strip()[:120],
            code=number("code"),
            date_from=day("date_from"),
            date_to=day("date_to"),
            answer_type=answer_type if answer_type in ANSWER_TYPES else "",
            has_evidence={"yes": True, "no": False}.get(evidence),
            q=(params.get("q") or "").strip()[:200],
        )

    def as_params(self) -> dict[str, str]:
        """The non-empty filters as query parameters (for paging links and the audit log)."""
        out: dict[str, str] = {}
        for name, value in asdict(self).items():
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                out[name] = "yes" if value else "no"
            else:
                out[name] = str(value)
        return out


def _day_start(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


async def code_and_descendants(session: AsyncSession, code_id: int) -> list[int]:
    rows = (await session.execute(select(Code.id, Code.parent_id))).all()
    children: dict[int | None, list[int]] = {}
    for child, parent in rows:
        children.setdefault(parent, []).append(child)
    found, stack = [], [code_id]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


async def conditions(
    session: AsyncSession, viewer: Viewer, filters: Filters
) -> list[ColumnElement[bool]]:
    """The WHERE clauses for ``filters``, always starting with the viewer's access rule."""
    clauses: list[ColumnElement[bool]] = [visible(viewer)]
    if filters.partnership is not None:
        clauses.append(
            Reflection.project_id.in_(
                select(Project.id).where(Project.partnership_id == filters.partnership)
            )
        )
    if filters.project is not None:
        clauses.append(Reflection.project_id == filters.project)
    if filters.cycle is not None:
        clauses.append(Reflection.cycle_id == filters.cycle)
    if filters.phase:
        clauses.append(Reflection.phase_id.in_(select(Phase.id).where(Phase.key == filters.phase)))
    if filters.research_question is not None:
        clauses.append(Reflection.research_question_id == filters.research_question)
    if filters.prompt:
        clauses.append(
            Reflection.delivery_id.in_(
                select(Delivery.id).where(Delivery.prompt_key == filters.prompt)
            )
        )
    if filters.code is not None:
        codes = await code_and_descendants(session, filters.code)
        clauses.append(
            Reflection.id.in_(select(Coding.reflection_id).where(Coding.code_id.in_(codes)))
        )
    if filters.date_from is not None:
        clauses.append(Reflection.created_at >= _day_start(filters.date_from, viewer.timezone))
    if filters.date_to is not None:
        end = _day_start(filters.date_to + timedelta(days=1), viewer.timezone)
        clauses.append(Reflection.created_at < end)
    hidden_time = masked(viewer)
    if hidden_time is not None and (filters.date_from or filters.date_to):
        # Reflections shown without a time take no part in a date filter: narrowing the dates
        # would tell a lead when each was written.
        clauses.append(~hidden_time)
    if filters.answer_type:
        clauses.append(Reflection.kind == filters.answer_type)
    if filters.has_evidence is not None:
        has = exists().where(Attachment.reflection_id == Reflection.id)
        clauses.append(has if filters.has_evidence else ~has)
    if fts.words(filters.q):
        dialect = session.get_bind().dialect.name
        if dialect == "sqlite" and not await _fulltext_ready(session):
            clauses.extend(
                func.lower(Reflection.text).contains(word.lower(), autoescape=True)
                for word in fts.words(filters.q)
            )
        else:
            clauses.append(fts.match_clause(dialect, filters.q, Reflection.id, Reflection.text))
    return clauses


_fulltext_seen: set[str] = set()


async def _fulltext_ready(session: AsyncSession) -> bool:
    """Whether the FTS5 table exists. A database made without migrations (``create_all``) gets
    it made now, on a connection of its own; this one search then matches words with LIKE."""
    key = str(session.get_bind().engine.url)
    if key in _fulltext_seen:
        return True
    connection = await session.connection()
    if await connection.run_sync(fts.has_fulltext):
        _fulltext_seen.add(key)
        return True
    if isinstance(session.bind, AsyncEngine):
        async with session.bind.begin() as writer:
            await writer.run_sync(fts.ensure_fulltext)
    return False


def with_context(statement: Select[Any]) -> Select[Any]:
    return statement.options(
        selectinload(Reflection.person),
        selectinload(Reflection.project).selectinload(Project.partnership),
        selectinload(Reflection.cycle),
        selectinload(Reflection.phase),
        selectinload(Reflection.research_question),
        selectinload(Reflection.delivery),
        selectinload(Reflection.attachments),
    )


@dataclass
class Page:
    reflections: list[Reflection]
    total: int
    page: int
    pages: int


async def search(session: AsyncSession, viewer: Viewer, filters: Filters, page: int = 1) -> Page:
    """One page of the reflections ``viewer`` may see that match ``filters``, newest first; the
    ones shown to a lead without a time come last, in an order that follows neither author nor
    time."""
    where = await conditions(session, viewer, filters)
    rank = unlinkable_rank(viewer)
    order = [] if rank is None else [rank]
    total = (await session.execute(select(func.count(Reflection.id)).where(*where))).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    # The page's ids first (a sort of narrow rows), then those rows with their context.
    ids = (
        (
            await session.execute(
                select(Reflection.id)
                .where(*where)
                .order_by(*order, Reflection.created_at.desc(), Reflection.id.desc())
                .limit(PAGE_SIZE)
                .offset((page - 1) * PAGE_SIZE)
            )
        )
        .scalars()
        .all()
    )
    loaded = (
        (await session.execute(with_context(select(Reflection).where(Reflection.id.in_(ids)))))
        .scalars()
        .all()
    )
    by_id = {reflection.id: reflection for reflection in loaded}
    return Page([by_id[i] for i in ids if i in by_id], total, page, pages)


async def count(session: AsyncSession, viewer: Viewer, filters: Filters) -> int:
    where = await conditions(session, viewer, filters)
    return (await session.execute(select(func.count(Reflection.id)).where(*where))).scalar_one()


async def each_reflection(
    session: AsyncSession, viewer: Viewer, filters: Filters, batch: int = 500
) -> AsyncIterator[Reflection]:
    """Every matching reflection in id order, loaded a batch at a time (for exports); those shown
    to a lead without a time come last, in the order of their handles."""
    where = await conditions(session, viewer, filters)
    hidden_time = masked(viewer)
    timed = where if hidden_time is None else [*where, ~hidden_time]
    last_id = 0
    while True:
        statement = (
            select(Reflection)
            .where(*timed, Reflection.id > last_id)
            .order_by(Reflection.id)
            .limit(batch)
        )
        rows = (await session.execute(with_context(statement))).scalars().all()
        if not rows:
            break
        for reflection in rows:
            yield reflection
        last_id = rows[-1].id
    if hidden_time is None:
        return
    ranks = viewer.unlinkable_ranks()
    wanted = (await session.execute(select(Reflection.id).where(*where, hidden_time))).scalars()
    ordered = sorted(wanted, key=lambda i: ranks.get(i, 0))
    for start in range(0, len(ordered), batch):
        chunk = ordered[start : start + batch]
        loaded = (
            (
                await session.execute(
                    with_context(select(Reflection).where(Reflection.id.in_(chunk)))
                )
            )
            .scalars()
            .all()
        )
        by_id = {reflection.id: reflection for reflection in loaded}
        for reflection_id in chunk:
            if reflection_id in by_id:
                yield by_id[reflection_id]
