"""``carbot study``: check, load and show the study file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from adapters.errors import StudyError
from bot.cli import with_services
from bot.services import Services
from bot.study.load import load_study
from bot.study.show import describe_study
from bot.study.status import has_schema
from bot.study.validate import read_study
from storage.db import upgrade_async

FILE = click.Path(dir_okay=False, path_type=Path)


def _report_problems(problems: list[str]) -> None:
    for problem in problems:
        click.echo(problem)
    click.echo(
        f"{len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing was loaded.",
        err=True,
    )


@click.group()
def study() -> None:
    """Check, load and show the study file (partnerships, projects, cycles, people)."""


@study.command("check")
@click.argument("file", type=FILE)
def check_command(file: Path) -> None:
    """Check FILE and list every problem with the path of the bad field. Writes nothing.

    Exits 0 when the file is valid, 1 when it has problems.
    """
    checked = read_study(file)
    if not checked.ok or checked.study is None:
        _report_problems(checked.problems)
        sys.exit(1)
    for warning in checked.warnings:
        click.echo(f"warning: {warning}")
    spec = checked.study
    projects = sum(len(p.projects) for p in spec.partnerships)
    click.echo(
        f"{file}: OK — {len(spec.partnerships)} partnerships, {projects} projects, "
        f"{len(spec.people)} people."
    )


@study.command("load")
@click.argument("file", type=FILE)
@with_services
async def load_command(services: Services, file: Path) -> None:
    """Check FILE and load it: create or update everything in it, in one transaction.

    Loading the same file again changes nothing. People, projects and partnerships that are no
    longer in the file are marked inactive, never deleted. With any problem nothing is written
    and the exit status is 1. The database is created or migrated first if needed.
    """
    await upgrade_async(services.settings.database_url)
    try:
        report = await load_study(services, file)
    except StudyError as exc:
        _report_problems(exc.problems)
        sys.exit(1)
    for line in report.lines():
        click.echo(line)


@study.command("show")
@click.option("--people", is_flag=True, help="Also list every person, with their study code.")
@with_services
async def show_command(services: Services, people: bool) -> None:
    """Show the loaded study: partnerships, projects, research questions, cycles and teams."""
    if not await has_schema(services):
        click.echo("The database has no tables yet. Run `carbot study load FILE` first.")
        return
    for line in await describe_study(services, people=people):
        click.echo(line)
