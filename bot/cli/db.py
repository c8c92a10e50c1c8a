"""``carbot db``: the database schema."""

from __future__ import annotations

import click

from bot.settings import get_settings
from storage.db import upgrade


@click.group()
def db() -> None:
    """Create or migrate the database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to reach.")
def upgrade_command(revision: str) -> None:
    """Create the database, or bring it to the newest schema. Safe to run again."""
    url = get_settings().database_url
    upgrade(url, revision)
    click.echo(f"Database is at revision {revision}.")
