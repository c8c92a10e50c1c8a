"""CSV export: one row per reflection with its context columns, authors pseudonymised."""

from __future__ import annotations

import csv
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from bot.review.access import Viewer
from bot.review.exports import Progress, codings_for, context_of
from bot.review.search import Filters, each_reflection
from storage.models import Reflection

COLUMNS = [
    "reflection_id",
    "created_utc",
    "created_local",
    "partnership",
    "project",
    "cycle",
    "phase",
    "research_question",
    "prompt_key",
    "prompt_text",
    "answer_type",
    "text",
    "scale_value",
    "choice",
    "audience",
    "channel",
    "participant",
    "evidence",
    "codes",
]


async def write_csv(
    session: AsyncSession,
    viewer: Viewer,
    filters: Filters,
    out: TextIO,
    progress: Progress | None = None,
    batch: int = 500,
) -> int:
    """Write the matching reflections to ``out``; returns how many rows were written."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    written = 0
    pending: list[Reflection] = []

    async def flush() -> None:
        nonlocal written
        codings = await codings_for(session, [r.id for r in pending])
        for reflection in pending:
            context = context_of(viewer, reflection)
            codes = sorted({c.code.name for c in codings.get(reflection.id, [])})
            writer.writerow(
                [
                    reflection.id,
                    context.created_utc,
                    context.created_local,
                    context.partnership,
                    context.project,
                    context.cycle,
                    context.phase,
                    context.research_question,
                    context.prompt_key,
                    context.prompt_text,
                    context.answer_type,
                    reflection.text,
                    "" if reflection.scale_value is None else reflection.scale_value,
                    reflection.choice or "",
                    context.audience,
                    context.channel,
                    context.author,
                    "; ".join(a.filename for a in reflection.attachments),
                    "; ".join(codes),
                ]
            )
        written += len(pending)
        if progress is not None:
            progress(len(pending))
        pending.clear()

    async for reflection in each_reflection(session, viewer, filters, batch=batch):
        pending.append(reflection)
        if len(pending) >= batch:
            await flush()
    await flush()
    return written
