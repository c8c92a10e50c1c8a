"""``carbot status``: where every project stands, who takes part, and this week's traffic."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from bot.cli import with_services
from bot.services import Services
from bot.study.status import status_lines, study_status


def _parse_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date or time; use e.g. 2027-03-01 or 2027-03-01T09:30"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.command()
@click.option(
    "--at",
    "at",
    metavar="WHEN",
    help="Show the status at this date or time (ISO 8601; without a zone it is UTC). Default: now.",
)
@with_services
async def status(services: Services, at: str | None) -> None:
    """Partnerships and projects with their current phase and days left (in each
    partnership's time zone), people per role, this week's deliveries by status, and digests
    sent and failed."""
    for line in status_lines(await study_status(services, _parse_at(at))):
        click.echo(line)
