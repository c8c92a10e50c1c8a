"""``carbot export``: the review workspace's exports, for scripts (CSV, REFI-QDA .qdc/.qdpx),
and ``carbot export check`` for a .qdpx about to go to a QDA tool.

The command line sees what an admin sees: every reflection except ``private`` ones, with
participants by study code. Each export is recorded in the audit log with actor ``cli``.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.errors import UnreadableProject
from bot.cli import with_services
from bot.review.access import cli_viewer
from bot.review.exports import record_export
from bot.review.exports.csv import write_csv
from bot.review.exports.qdc import codebook_xml
from bot.review.exports.reader import read_qdpx
from bot.review.exports.refi import write_qdpx
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


def _filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options every reflections export takes: the review workspace's filters."""
    options = [
        click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, path_type=Path),
            required=True,
            help="File to write.",
        ),
        click.option("--partnership", metavar="SLUG", help="Only this partnership."),
        click.option("--project", metavar="SLUG", help="Only this project."),
        click.option("--phase", metavar="KEY", default="", help="Only this phase (e.g. scoping)."),
        click.option(
            "--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="From this day."
        ),
        click.option(
            "--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Up to this day, included."
        ),
        click.option(
            "--answer-type", type=click.Choice(ANSWER_TYPES), help="Only this kind of answer."
        ),
        click.option("--query", default="", help="Only reflections containing these words."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("export")
def export() -> None:
    """Export reflections as CSV or a REFI-QDA project (.qdpx), or the codebook (.qdc); check a
    .qdpx before handing it to a QDA tool."""


@export.command("csv")
@_filter_options
@click.option(
    "--raw-cells",
    is_flag=True,
    help="Keep every cell exactly as written: UTF-8 without a byte-order mark, cells starting "
    "with = + - @ untouched (for R/Python/QDA tools). By default the file opens correctly in "
    "Excel: a byte-order mark, every text cell quoted, formula-like cells given a leading '.",
)
@with_services
async def export_csv(services: Services, output: Path, raw_cells: bool, **filters: Any) -> None:
    """Reflections as CSV, one row per reflection."""

    async def write(session: AsyncSession, chosen: Filters, bar: Any) -> int:
        with output.open("w", encoding="utf-8", newline="") as out:
            return await write_csv(
                session,
                cli_viewer(services.settings.default_timezone),
                chosen,
                out,
                bar.update,
                safe_for_spreadsheets=not raw_cells,
            )

    await _export(services, "csv", output, filters, write)


@export.command("qdpx")
@_filter_options
@with_services
async def export_qdpx(services: Services, output: Path, **filters: Any) -> None:
    """Reflections, codes, codings, memos and cases as a REFI-QDA project (NVivo, ATLAS.ti,
    MAXQDA, QualCoder)."""

    async def write(session: AsyncSession, chosen: Filters, bar: Any) -> int:
        with output.open("wb") as binary:
            return await write_qdpx(
                session,
                cli_viewer(services.settings.default_timezone),
                chosen,
                binary,
                Path(services.settings.data_dir),
                bar.update,
            )

    await _export(services, "qdpx", output, filters, write)


@export.command("qdc")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write.",
)
@with_services
async def export_qdc(services: Services, output: Path) -> None:
    """The codebook as a REFI-QDA codebook (.qdc)."""

    async def write(session: AsyncSession, chosen: Filters, bar: Any) -> int:
        document = await codebook_xml(session)
        with output.open("wb") as binary:
            binary.write(document)
        return 0

    await _export(services, "qdc", output, {}, write)


@export.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def export_check(file: Path) -> None:
    """Count what a .qdpx holds and find what would break an import into a QDA tool.

    Exits 1 on a dangling reference, two sources or two codes with one name, or a selection
    outside its text.
    """
    try:
        project = read_qdpx(file)
    except UnreadableProject as error:
        raise click.ClickException(f"{file}: {error}") from error
    counts = project.counts()
    click.echo(", ".join(f"{number} {what}" for what, number in counts.items()))
    if project.problems:
        for problem in project.problems:
            click.echo(f"{file}: {problem}", err=True)
        click.echo(
            f"{len(project.problems)} problem(s): a QDA tool may refuse this file.", err=True
        )
        raise SystemExit(1)
    click.echo("No problems found.")


Write = Callable[[AsyncSession, Filters, Any], Awaitable[int]]


async def _export(
    services: Services, fmt: str, output: Path, options: dict[str, Any], write: Write
) -> None:
    viewer = cli_viewer(services.settings.default_timezone)
    async with transaction(services.sessions) as session:
        filters = Filters(
            partnership=await _id(session, Partnership, options.get("partnership")),
            project=await _id(session, Project, options.get("project")),
            phase=options.get("phase") or "",
            date_from=_day(options.get("date_from")),
            date_to=_day(options.get("date_to")),
            answer_type=options.get("answer_type") or "",
            q=options.get("query") or "",
        )
        total = 0 if fmt == "qdc" else await count(session, viewer, filters)
        with click.progressbar(
            length=total,
            label=f"Exporting {total} reflections",
            file=None if total >= PROGRESS_FROM else io.StringIO(),
        ) as bar:
            written = await write(session, filters, bar)
        record_export(session, viewer, fmt, filters, written)
    logger.info("export written", extra={"action": f"export_{fmt}", "rows": written})
    what = "the codebook" if fmt == "qdc" else f"{written} reflection(s)"
    click.echo(f"Wrote {what} to {output}.")


def _day(value: object) -> date | None:
    return value.date() if hasattr(value, "date") else None  # type: ignore[no-any-return]
