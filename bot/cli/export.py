"""``carbot export``: the review workspace's exports, for scripts (CSV, REFI-QDA .qdc/.qdpx).

The command line sees what an admin sees: every reflection except ``private`` ones, with
participants by study code. Each export is recorded in the audit log with actor ``cli``.
"""

from __future__ import annotations

import io
import logging
from datetime import date
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import with_services
from bot.review.access import cli_viewer
from bot.review.exports import record_export
from bot.review.exports.csv import write_csv
from bot.review.exports.refi import codebook_xml, write_qdpx
from bot.review.search import ANSWER_TYPES, Filters, count
from bot.services import Services
from storage.db import transaction
from storage.models import Partnership, Project

logger = logging.getLogger(__name__)

PROGRESS_FROM = 1000  # show a progress bar for exports at least this big


async def _id(
    session: AsyncSession, model: type[Partnership] | type[Project], slug: str | None
) -> int | None:
    if slug is None:
        return None
    found = (await session.execute(select(model.id).where(model.slug == slug))).scalar_one_or_none()
    if found is None:
        raise click.ClickException(f"No {model.__tablename__[:-1]} with slug {slug!r}.")
    return found


@click.command("export")
@click.argument("fmt", metavar="csv|qdc|qdpx", type=click.Choice(["csv", "qdc", "qdpx"]))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write.",
)
@click.option("--partnership", metavar="SLUG", help="Only this partnership.")
@click.option("--project", metavar="SLUG", help="Only this project.")
@click.option("--phase", metavar="KEY", default="", help="Only this phase (e.g. scoping).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="From this day.")
@click.option(
    "--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Up to this day, included."
)
@click.option("--answer-type", type=click.Choice(ANSWER_TYPES), help="Only this kind of answer.")
@click.option("--query", default="", help="Only reflections containing these words.")
@click.option(
    "--raw-cells",
    is_flag=True,
    help="CSV: keep cells starting with = + - @ exactly as written (for R/Python/QDA tools; "
    "by default they get a leading ' so a spreadsheet does not run them as formulas).",
)
@with_services
async def export(
    services: Services,
    fmt: str,
    output: Path,
    partnership: str | None,
    project: str | None,
    phase: str,
    date_from: object,
    date_to: object,
    answer_type: str | None,
    query: str,
    raw_cells: bool,
) -> None:
    """Export reflections as CSV or a REFI-QDA project (.qdpx), or the codebook (.qdc)."""
    viewer = cli_viewer(services.settings.default_timezone)
    async with transaction(services.sessions) as session:
        filters = Filters(
            partnership=await _id(session, Partnership, partnership),
            project=await _id(session, Project, project),
            phase=phase,
            date_from=_day(date_from),
            date_to=_day(date_to),
            answer_type=answer_type or "",
            q=query,
        )
        total = 0 if fmt == "qdc" else await count(session, viewer, filters)
        with click.progressbar(
            length=total,
            label=f"Exporting {total} reflections",
            file=None if total >= PROGRESS_FROM else io.StringIO(),
        ) as bar:
            if fmt == "csv":
                with output.open("w", encoding="utf-8", newline="") as out:
                    written = await write_csv(
                        session,
                        viewer,
                        filters,
                        out,
                        bar.update,
                        safe_for_spreadsheets=not raw_cells,
                    )
            elif fmt == "qdpx":
                with output.open("wb") as binary:
                    written = await write_qdpx(
                        session,
                        viewer,
                        filters,
                        binary,
                        Path(services.settings.data_dir),
                        bar.update,
                    )
            else:
                with output.open("wb") as binary:
                    binary.write(await codebook_xml(session))
                written = 0
        record_export(session, viewer, fmt, filters, written)
    logger.info("export written", extra={"action": f"export_{fmt}", "rows": written})
    what = "the codebook" if fmt == "qdc" else f"{written} reflection(s)"
    click.echo(f"Wrote {what} to {output}.")


def _day(value: object) -> date | None:
    return value.date() if hasattr(value, "date") else None  # type: ignore[no-any-return]
