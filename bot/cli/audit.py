"""``carbot audit``: read the audit log (who read or did what, when), filtered, or as CSV."""

from __future__ import annotations

from datetime import UTC, date
from pathlib import Path

import click

from bot.cli import with_services
from bot.review import audit as log
from bot.services import Services


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    found = log.parse_day(value)
    if found is None:
        raise click.BadParameter(f"{value!r} is not a day; use e.g. 2027-03-01")
    return found


@click.command()
@click.option("--actor", default="", help="Only this account (email), user:ID, cli or system.")
@click.option("--action", default="", help="Only this action, e.g. read_reflection or export_csv.")
@click.option("--from", "date_from", callback=_day, metavar="DAY", help="From this UTC day.")
@click.option("--to", "date_to", callback=_day, metavar="DAY", help="To this UTC day (inclusive).")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every matching entry to this CSV file instead of printing them.",
)
@click.option("--limit", default=100, show_default=True, help="How many entries to print.")
@with_services
async def audit(
    services: Services,
    actor: str,
    action: str,
    date_from: date | None,
    date_to: date | None,
    csv_file: Path | None,
    limit: int,
) -> None:
    """The audit log, newest first: sign-ins, reads of reflections, evidence files and searches,
    exports and admin actions (ids and filters, never a reflection's words)."""
    filters = log.AuditFilters(actor, action, date_from, date_to)
    async with services.sessions() as session:
        found = await log.entries(session, filters, None if csv_file else limit)
    if csv_file is not None:
        with csv_file.open("w", newline="", encoding="utf-8") as out:
            log.write_csv(found, out)
        click.echo(f"Wrote {len(found)} audit entries to {csv_file}.")
        return
    if not found:
        click.echo("No audit entries match.")
        return
    for item in found:
        e = item.entry
        who = item.account or e.actor
        at = e.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        details = log.details_text(e.details)
        click.echo(f"{at}  {who:<28} {e.action:<18} {e.target}  {details}".rstrip())
