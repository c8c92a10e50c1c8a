"""``carbot retention``: what the daily retention step would remove, or run it now."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from bot.cli import with_services
from bot.engine.retention import plan_lines, preview, retention_once
from bot.services import Services


@click.group()
def retention() -> None:
    """The study file's retention periods (study.retention), applied by a daily step."""


@retention.command("preview")
@with_services
async def preview_command(services: Services) -> None:
    """List what the next retention run would remove (per kind, with the cut-off day), and
    the evidence and outbox files. Changes nothing."""
    plan = await preview(services, datetime.now(UTC))
    for line in plan_lines(plan):
        click.echo(line)
    for path in plan.files:
        click.echo(f"    {path}")


@retention.command("run")
@with_services
async def run_command(services: Services) -> None:
    """Remove now what is older than the retention periods, check nothing older is left, and
    write one audit line with the counts (the daily step does the same)."""
    removed = await retention_once(services, datetime.now(UTC))
    click.echo(f"Retention removed {removed} rows and files; nothing older is left.")
