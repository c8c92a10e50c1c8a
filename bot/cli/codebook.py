"""``carbot codebook import``: start from a codebook the researchers already have."""

from __future__ import annotations

from pathlib import Path

import click

from adapters.errors import CodebookError
from bot.cli import with_services
from bot.review.access import cli_viewer
from bot.review.codebook_import import (
    MAX_CODEBOOK_BYTES,
    ImportedCode,
    apply_merge,
    plan_merge,
    read_codebook,
)
from bot.services import Services
from storage.db import transaction
from storage.models import AuditLog


@click.group()
def codebook() -> None:
    """The codebook the review workspace codes with."""


@codebook.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
def import_command(file: Path, dry_run: bool) -> None:
    """Merge the codes in FILE into the codebook, by name path.

    FILE is a REFI-QDA codebook (.qdc, from NVivo, ATLAS.ti, MAXQDA or QualCoder), a REFI-QDA
    project (.qdpx, its codebook only) or a Taguette codebook CSV. Missing codes are added;
    codes already here keep their name, place and codings, and get the file's description only
    when they have none. A malformed file changes nothing.
    """
    if file.stat().st_size > MAX_CODEBOOK_BYTES:
        raise click.ClickException(
            f"{file} is larger than {MAX_CODEBOOK_BYTES // 1024 // 1024} MB; not read."
        )
    try:
        codes = read_codebook(file.name, file.read_bytes())
    except CodebookError as error:
        raise click.ClickException(str(error)) from error
    _merge(codes, file.name, dry_run)


@with_services
async def _merge(services: Services, codes: list[ImportedCode], name: str, dry_run: bool) -> None:
    viewer = cli_viewer(services.settings.default_timezone)
    async with transaction(services.sessions) as session:
        plan = await plan_merge(session, codes)
        for line in plan.summary():
            click.echo(line)
        if dry_run:
            click.echo("Dry run: nothing changed.")
            return
        await apply_merge(session, viewer, plan)
        session.add(
            AuditLog(
                actor=viewer.actor,
                action="codebook_import",
                target=name,
                details={"added": len(plan.added), "described": len(plan.described)},
            )
        )
    click.echo(f"Imported {name}: {len(plan.added)} code(s) added.")
