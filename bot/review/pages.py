"""Data for the review pages: filter choices, one reflection with its codings and memos."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.review.access import Viewer, may_see
from bot.review.coding import CodeNode, codebook, flatten
from bot.review.search import ANSWER_TYPES, with_context
from storage.models import (
    Attachment,
    Code,
    Coding,
    Cycle,
    Delivery,
    Memo,
    Partnership,
    Phase,
    Project,
    Reflection,
    ResearchQuestion,
    User,
)


@dataclass
class Choices:
    partnerships: list[tuple[int, str]]
    projects: list[tuple[int, str]]
    cycles: list[tuple[int, str]]
    phases: list[tuple[str, str]]
    research_questions: list[tuple[int, str]]
    prompts: list[tuple[str, str]]
    codes: list[CodeNode]
    answer_types: tuple[str, ...] = ANSWER_TYPES


async def filter_choices(session: AsyncSession, viewer: Viewer) -> Choices:
    """The options of each filter, limited to the projects the viewer may look at."""
    allowed = viewer.project_ids()

    def scoped(query, column):  # type: ignore[no-untyped-def]
        return query if allowed is None else query.where(column.in_(sorted(allowed)))

    projects = (
        await session.execute(
            scoped(select(Project.id, Project.name, Project.partnership_id), Project.id).order_by(
                Project.name
            )
        )
    ).all()
    partnership_ids = {p.partnership_id for p in projects}
    partnerships = (
        await session.execute(
            select(Partnership.id, Partnership.name)
            .where(Partnership.id.in_(partnership_ids))
            .order_by(Partnership.name)
        )
    ).all()
    cycles = (
        await session.execute(
            scoped(
                select(Cycle.id, Cycle.name, Project.name).join(Project), Cycle.project_id
            ).order_by(Project.name, Cycle.position)
        )
    ).all()
    phases = (
        await session.execute(
            scoped(select(Phase.key, Phase.name).join(Cycle).distinct(), Cycle.project_id).order_by(
                Phase.name
            )
        )
    ).all()
    questions = (
        await session.execute(
            scoped(
                select(ResearchQuestion.id, ResearchQuestion.text), ResearchQuestion.project_id
            ).order_by(ResearchQuestion.project_id, ResearchQuestion.position)
        )
    ).all()
    prompts = (
        await session.execute(
            scoped(select(Delivery.prompt_key).distinct(), Delivery.project_id).order_by(
                Delivery.prompt_key
            )
        )
    ).all()
    return Choices(
        partnerships=[(p.id, p.name) for p in partnerships],
        projects=[(p.id, p.name) for p in projects],
        cycles=[(c[0], f"{c[2]} — {c[1]}") for c in cycles],
        phases=sorted({(p[0], p[1]) for p in phases}, key=lambda p: p[1]),
        research_questions=[(q[0], q[1]) for q in questions],
        prompts=[(p[0], p[0]) for p in prompts],
        codes=flatten(await codebook(session)),
    )


async def visible_reflection(
    session: AsyncSession, viewer: Viewer, reflection_id: int, *, by_handle: bool = False
) -> Reflection | None:
    """The reflection with its context, or None when it is missing or not the viewer's to see.

    A reflection the viewer sees as a lead sees anonymous ones is found only by its handle
    (:func:`reflection_by_handle`): its id, which follows time, answers as if missing.
    """
    reflection = (
        await session.execute(
            with_context(select(Reflection).where(Reflection.id == reflection_id))
        )
    ).scalar_one_or_none()
    if reflection is None or not may_see(viewer, reflection):
        return None
    if viewer.masks(reflection) and not by_handle:
        return None
    return reflection


async def reflection_by_handle(
    session: AsyncSession, viewer: Viewer, handle: str
) -> Reflection | None:
    reflection_id = viewer.handles().get(handle)
    if reflection_id is None:
        return None
    return await visible_reflection(session, viewer, reflection_id, by_handle=True)


async def visible_attachment(
    session: AsyncSession, viewer: Viewer, attachment_id: int
) -> Attachment | None:
    """An evidence file by its id; never one of a reflection the viewer reaches by handle."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None:
        return None
    if await visible_reflection(session, viewer, attachment.reflection_id) is None:
        return None
    return attachment


@dataclass
class CodingView:
    coding: Coding
    code: Code
    excerpt: str | None
    by: str


@dataclass
class MemoView:
    memo: Memo
    by: str


async def _emails(session: AsyncSession, ids: set[int | None]) -> dict[int | None, str]:
    wanted = {i for i in ids if i is not None}
    rows = (
        (await session.execute(select(User.id, User.email).where(User.id.in_(wanted)))).all()
        if wanted
        else []
    )
    found: dict[int | None, str] = {row[0]: row[1] for row in rows}
    found[None] = "command line"
    return found


async def codings_and_memos(
    session: AsyncSession, reflection: Reflection
) -> tuple[list[CodingView], list[MemoView]]:
    rows = (
        await session.execute(
            select(Coding, Code)
            .join(Code, Code.id == Coding.code_id)
            .where(Coding.reflection_id == reflection.id)
            .order_by(Coding.created_at, Coding.id)
        )
    ).all()
    memos = (
        (
            await session.execute(
                select(Memo).where(Memo.reflection_id == reflection.id).order_by(Memo.created_at)
            )
        )
        .scalars()
        .all()
    )
    emails = await _emails(session, {c.created_by for c, _ in rows} | {m.created_by for m in memos})
    codings = [
        CodingView(
            coding,
            code,
            reflection.text[coding.start : coding.end] if coding.start is not None else None,
            emails.get(coding.created_by, "unknown"),
        )
        for coding, code in rows
    ]
    return codings, [MemoView(m, emails.get(m.created_by, "unknown")) for m in memos]


async def code_memos(session: AsyncSession) -> dict[int, list[MemoView]]:
    memos = (
        (await session.execute(select(Memo).where(Memo.code_id.is_not(None)).order_by(Memo.id)))
        .scalars()
        .all()
    )
    emails = await _emails(session, {m.created_by for m in memos})
    found: dict[int, list[MemoView]] = {}
    for memo in memos:
        found.setdefault(memo.code_id or 0, []).append(
            MemoView(memo, emails.get(memo.created_by, "unknown"))
        )
    return found


def segments(text: str, codings: list[CodingView]) -> list[tuple[str, list[CodingView]]]:
    """``text`` cut at every coded passage's edges, each piece with the codings covering it
    (for highlighting; overlapping passages give pieces covered by several codes)."""
    spans = [c for c in codings if c.coding.start is not None and c.coding.end is not None]
    edges = sorted(
        {0, len(text)} | {c.coding.start or 0 for c in spans} | {c.coding.end or 0 for c in spans}
    )
    pieces = []
    for start, end in pairwise(edges):
        if start >= end or end > len(text):
            continue
        covering = [
            c for c in spans if (c.coding.start or 0) <= start and end <= (c.coding.end or 0)
        ]
        pieces.append((text[start:end], covering))
    return pieces
