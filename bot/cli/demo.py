"""``carbot demo``: try carbot on the demo study, no tokens needed (``make demo``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from bot.cli import run_async, with_services
from bot.cli.run import make_clock, parse_start, serve
from bot.clock import save_demo_clock
from bot.demo.seed import seed_demo
from bot.demo.setup import DemoReady, prepare_demo
from bot.services import Services
from bot.settings import Settings, get_settings
from storage.db import upgrade_async

DEFAULT_SPEED = 60.0


@click.group()
def demo() -> None:
    """Run the demo: the WWS demo study with made-up answers, on SQLite in var/."""


def demo_settings() -> Settings:
    """The settings, with links pointing at where the demo listens unless a URL was given."""
    settings = get_settings()
    if "public_url" in settings.model_fields_set:
        return settings
    host = "127.0.0.1" if settings.web_host in ("0.0.0.0", "::", "") else settings.web_host
    return settings.model_copy(update={"public_url": f"http://{host}:{settings.web_port}"})


def _show(settings: Settings, ready: DemoReady, speed: float, *, running: bool = True) -> None:
    base = settings.public_url.rstrip("/")
    local = ready.start.astimezone(ZoneInfo(ready.zone))
    if ready.seeded is not None:
        click.echo(f"Seeded {ready.seeded}.")
    click.echo("")
    click.echo("carbot demo is ready.")
    click.echo("")
    click.echo("Web chat — open a personal link (each person sees their own prompts):")
    for link in ready.links:
        click.echo(f"  {link.name} ({link.project}): {link.url}")
    if ready.review_email and ready.review_password:
        click.echo("")
        click.echo(f"Review workspace: {base}/review")
        click.echo(f"  sign in as {ready.review_email} with password {ready.review_password}")
        if not settings.smtp_host:
            click.echo(f"  digests (no SMTP set, so written to the outbox): {base}/review/outbox")
        if ready.context_report:
            click.echo(f"  context report for the latest event: {base}{ready.context_report}")
    click.echo("")
    if not running:
        click.echo(
            "Nothing is running (--no-run): the links and the review workspace answer once "
            "carbot runs, e.g. with 'carbot run', which starts the demo clock at "
            f"{local:%a %d %b %Y %H:%M} ({ready.zone}) and runs it at {speed:g}× real speed."
        )
        click.echo("")
        return
    click.echo(
        f"Demo clock: starts {local:%a %d %b %Y %H:%M} ({ready.zone}) and runs "
        f"{speed:g}× faster than real time; the first prompt arrives within a minute."
    )
    click.echo("Stop with Ctrl+C.")
    click.echo("")


@demo.command("up")
@click.option(
    "--study",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Study file to load (default: examples/wws-demo.yaml).",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_SPEED,
    show_default=True,
    help="How many times faster than real time the demo clock runs.",
)
@click.option(
    "--weeks",
    type=click.IntRange(min=0, max=52),
    default=6,
    show_default=True,
    help="Weeks of made-up answers to seed into an empty database.",
)
@click.option(
    "--people",
    type=click.IntRange(min=1, max=10),
    default=3,
    show_default=True,
    help="How many demo people get a personal web chat link.",
)
@click.option("--no-run", is_flag=True, help="Prepare and print the links, but do not run.")
def up(study: Path | None, speed: float, weeks: int, people: int, no_run: bool) -> None:
    """Migrate, load the demo study, seed answers, print links, and run carbot.

    Each run prints fresh personal links (the previous ones stop working) and a fresh
    password for the review workspace's demo account.
    """

    settings = demo_settings()

    async def prepare() -> DemoReady:
        services = Services.from_settings(settings)
        try:
            return await prepare_demo(services, study=study, weeks=weeks, people=people)
        finally:
            await services.close()

    ready = run_async(prepare())
    _show(settings, ready, speed, running=not no_run)
    if no_run:
        save_demo_clock(settings.data_dir, ready.start, speed)
        return
    serve(settings, make_clock(speed, ready.start), speed)


@demo.command("seed")
@click.option(
    "--weeks",
    type=click.IntRange(min=1, max=52),
    default=6,
    show_default=True,
    help="How many weeks back to fill.",
)
@click.option(
    "--now",
    "now_text",
    metavar="ISO",
    default=None,
    help="The moment to seed back from (default: now), e.g. 2027-03-09T09:00+00:00.",
)
@with_services
async def seed(services: Services, weeks: int, now_text: str | None) -> None:
    """Fill the loaded study with made-up answers for the past weeks (safe to repeat)."""
    await upgrade_async(services.settings.database_url)
    now = parse_start(now_text) or datetime.now(UTC)
    report = await seed_demo(services, now, weeks=weeks)
    click.echo(f"Seeded {report}.")
