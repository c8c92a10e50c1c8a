"""CSV export: one row per reflection with its context columns, authors pseudonymised.

Two forms. The default is for people: it opens correctly when double-clicked in Excel on
Windows (a UTF-8 byte-order mark, so ``—``, ``’`` and emoji survive; every text cell quoted, so a
locale that splits on ``;`` still sees one cell; formula-like cells neutralised). The raw form
("keep every cell exactly") is for programs: UTF-8 without a mark, cells byte for byte.
"""

from __future__ import annotations

import csv
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from bot.review.access import Viewer
from bot.review.coding import codebook
from bot.review.exports import (
    Progress,
    codings_for,
    context_of,
    export_code_names,
    in_batches,
    option_label,
    reference,
    shown_answer,
)
from bot.review.search import Filters
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
    "option_label",
    "answer",
    "audience",
    "channel",
    "participant",
    "evidence",
    "codes",
]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BYTE_ORDER_MARK = "\ufeff"


def spreadsheet_safe(value: object) -> object:
    """Neutralise a cell a spreadsheet would run as a formula (OWASP "CSV injection").

    A text cell starting with ``= + - @``, a tab or a carriage return gets a leading ``'``, which
    Excel, LibreOffice and Google Sheets show as plain text. Numbers are left alone.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


async def write_csv(
    session: AsyncSession,
    viewer: Viewer,
    filters: Filters,
    out: TextIO,
    progress: Progress | None = None,
    batch: int = 500,
    *,
    safe_for_spreadsheets: bool = True,
) -> int:
    """Write the matching reflections to ``out``; returns how many rows were written.

    With ``safe_for_spreadsheets`` (the default) the text starts with a byte-order mark, every
    text cell is quoted and cells a spreadsheet would take for a formula start with ``'``; pass
    False for the participants' words byte for byte (for R, Python or a QDA tool — never open
    that file in Excel). Codes are named as in the REFI-QDA exports (unique across the codebook).
    """
    if safe_for_spreadsheets:
        out.write(BYTE_ORDER_MARK)
        writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    else:
        writer = csv.writer(out)
    writer.writerow(COLUMNS)
    cell = spreadsheet_safe if safe_for_spreadsheets else (lambda value: value)
    code_names = export_code_names(await codebook(session))

    async def rows(pending: list[Reflection]) -> None:
        codings = await codings_for(session, [r.id for r in pending])
        for reflection in pending:
            context = context_of(viewer, reflection)
            codes = sorted({code_names[c.code_id] for c in codings.get(reflection.id, [])})
            values: list[object] = [
                reflection.id if not viewer.masks(reflection) else reference(viewer, reflection),
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
                option_label(reflection),
                shown_answer(reflection),
                context.audience,
                context.channel,
                context.author,
                "; ".join(a.filename for a in reflection.attachments),
                "; ".join(codes),
            ]
            writer.writerow([cell(value) for value in values])

    return await in_batches(session, viewer, filters, rows, progress, batch)
