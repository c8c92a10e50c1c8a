"""``carbot report evaluation``: an event's evaluation summary, in the report's own terms."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli import with_services
from bot.evaluation.events import find_event
from bot.evaluation.summary import summarise, summary_lines, write_summary_csv
from bot.review import audit
from bot.review.access import cli_viewer
from bot.services import Services


@click.command()
@click.option("--event", "event_key", required=True, metavar="KEY", help="The event's key.")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the figures and comments to this CSV file.",
)
@with_services
async def evaluation(services: Services, event_key: str, csv_file: Path | None) -> None:
    """An event's evaluation: per item the share scoring 4 or 5, the distribution and n, and
    the comments grouped by theme; nobody named, items with fewer than 3 answers held back."""
    async with services.sessions() as session:
        event = await find_event(session, event_key)
        if event is None:
            raise click.ClickException(f"no event {event_key!r} in the loaded study")
        viewer = cli_viewer(services.settings.default_timezone)
        summary = await summarise(session, event, viewer)
    await audit.record(services.sessions, viewer, "evaluation_report", f"event:{event_key}")
    for line in summary_lines(summary):
        click.echo(line)
    if csv_file is not None:
        rows = write_summary_csv(summary, csv_file)
        click.echo(f"Wrote {rows} rows to {csv_file}.")
