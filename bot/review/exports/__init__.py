"""Exports of reflections: CSV, a REFI-QDA codebook (``.qdc``) and project (``.qdpx``).

Each export goes through :func:`bot.review.search.each_reflection` (so the access rule and the
filters apply) and is recorded in the audit log by :func:`record_export`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.review.access import Viewer, author_label
from bot.review.coding import CodeNode
from bot.review.search import Filters, each_reflection
from prompts.choices import answer_label, option_for, prompt_options, reflection_label
from storage.models import AuditLog, Code, Coding, Reflection

Progress = Callable[[int], None]

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "qdc": ("application/xml", "qdc"),
    "qdpx": ("application/zip", "qdpx"),
}


@dataclass(frozen=True)
class Context:
    """A reflection's context as exports and pages show it (author already pseudonymised)."""

    partnership: str
    project: str
    cycle: str
    phase: str
    research_question: str
    prompt_key: str
    prompt_text: str
    answer_type: str
    answer: str
    audience: str
    channel: str
    author: str
    created_utc: str
    created_local: str


def shown_answer(reflection: Reflection) -> str:
    """:func:`answer_label` of ``reflection``, with the options of the prompt it answered."""
    delivery = reflection.delivery
    return reflection_label(reflection, delivery.prompt_options if delivery else None)


def option_label(reflection: Reflection) -> str:
    """The button label the participant tapped, from the prompt as it was sent ("" if unknown)."""
    value = reflection.scale_value if reflection.scale_value is not None else reflection.choice
    if value is None or value == "" or reflection.delivery is None:
        return ""
    found = option_for(prompt_options(reflection.delivery.prompt_options), value)
    return "" if found is None or found.label == found.value else found.label


def answer_text(reflection: Reflection) -> str:
    """The words of a reflection, or a short rendering of a tap/scale/evidence answer.

    A scale or choice answer reads as it does everywhere else (:func:`answer_label`), after its
    kind ("Scale: 4 — Mostly"), so a reader never has to guess what the number meant.
    """
    if reflection.text:
        return reflection.text
    options = prompt_options(reflection.delivery.prompt_options if reflection.delivery else None)
    if reflection.scale_value is not None:
        return f"Scale: {answer_label('scale', options, scale_value=reflection.scale_value)}"
    if reflection.choice:
        return f"Choice: {answer_label('choice', options, choice=reflection.choice)}"
    if reflection.attachments:
        return "Evidence: " + ", ".join(a.filename for a in reflection.attachments)
    return ""


PATH_SEPARATOR = " › "


def export_code_names(nodes: list[CodeNode]) -> dict[int, str]:
    """A name for every code that no other code in the codebook shares, by code id.

    carbot lets two codes under different parents share a name ("Barriers/Other",
    "Enablers/Other"); QualCoder and MAXQDA need names unique across the codebook, so a shared
    name is given its parent path ("Barriers › Other"). A name that still collides (a code
    literally called "Barriers › Other") gets a number: "Barriers › Other (2)".
    """
    paths: dict[int, list[str]] = {}

    def walk(items: list[CodeNode], parents: list[str]) -> None:
        for node in items:
            paths[node.code.id] = [*parents, node.code.name]
            walk(node.children, paths[node.code.id])

    walk(nodes, [])
    shared: dict[str, int] = {}
    for path in paths.values():
        shared[path[-1].casefold()] = shared.get(path[-1].casefold(), 0) + 1
    names: dict[int, str] = {}
    taken: set[str] = set()

    # Codes keeping their own name go first, so they never become the ones with a number.
    def is_shared(path: list[str]) -> bool:
        return shared[path[-1].casefold()] > 1

    for code_id, path in sorted(paths.items(), key=lambda item: (is_shared(item[1]), item[0])):
        name = PATH_SEPARATOR.join(path) if is_shared(path) else path[-1]
        candidate, number = name, 1
        while candidate.casefold() in taken:
            number += 1
            candidate = f"{name} ({number})"
        taken.add(candidate.casefold())
        names[code_id] = candidate
    return names


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reference(viewer: Viewer, reflection: Reflection) -> str:
    """How a reflection is named to ``viewer``: its id, or (shown as a lead sees anonymous ones)
    a handle that tells nothing of when it was written."""
    if viewer.masks(reflection):
        return f"anonymous-{viewer.handle(reflection.id)}"
    return str(reflection.id)


def context_of(viewer: Viewer, reflection: Reflection) -> Context:
    """The context columns; time and channel left empty for a reflection ``viewer`` masks."""
    project = reflection.project
    delivery = reflection.delivery
    local = reflection.created_at.astimezone(ZoneInfo(viewer.timezone))
    hide = viewer.masks(reflection)
    return Context(
        partnership=project.partnership.name if project else "",
        project=project.name if project else "",
        cycle=reflection.cycle.name if reflection.cycle else "",
        phase=reflection.phase.name if reflection.phase else "",
        research_question=reflection.research_question.text if reflection.research_question else "",
        prompt_key=delivery.prompt_key if delivery else "",
        prompt_text=delivery.prompt_text if delivery else "",
        answer_type=reflection.kind,
        answer=answer_text(reflection),
        audience=reflection.audience,
        channel="" if hide else reflection.channel,
        author=author_label(viewer, reflection, reflection.person) or "",
        created_utc="" if hide else iso_utc(reflection.created_at),
        created_local="" if hide else local.strftime("%Y-%m-%d %H:%M %Z"),
    )


async def codings_for(session: AsyncSession, reflection_ids: list[int]) -> dict[int, list[Coding]]:
    if not reflection_ids:
        return {}
    rows = await session.execute(
        select(Coding, Code)
        .join(Code, Code.id == Coding.code_id)
        .where(Coding.reflection_id.in_(reflection_ids))
        .order_by(Coding.reflection_id, Coding.start, Coding.id)
    )
    found: dict[int, list[Coding]] = {}
    for coding, code in rows:
        coding.code = code
        found.setdefault(coding.reflection_id, []).append(coding)
    return found


async def in_batches(
    session: AsyncSession,
    viewer: Viewer,
    filters: Filters,
    handle: Callable[[list[Reflection]], Awaitable[None]],
    progress: Progress | None = None,
    batch: int = 500,
) -> int:
    """Feed the reflections ``viewer`` may export to ``handle`` ``batch`` at a time.

    Returns how many were handled; ``progress`` hears each batch's size.
    """
    handled = 0
    pending: list[Reflection] = []

    async def flush() -> None:
        nonlocal handled
        if not pending:
            return
        await handle(pending)
        handled += len(pending)
        if progress is not None:
            progress(len(pending))
        pending.clear()

    async for reflection in each_reflection(session, viewer, filters, batch=batch):
        pending.append(reflection)
        if len(pending) >= batch:
            await flush()
    await flush()
    return handled


def record_export(
    session: AsyncSession, viewer: Viewer, fmt: str, filters: Filters, rows: int
) -> None:
    session.add(
        AuditLog(
            actor=viewer.actor,
            action=f"export_{fmt}",
            target=viewer.email,
            details={"format": fmt, "filters": filters.as_params(), "reflections": rows},
        )
    )
