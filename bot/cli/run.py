"""``carbot run``: the web app, the scheduler and every configured channel, in one process."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

import click

from bot.clock import Clock, ScaledClock, SystemClock, save_demo_clock, saved_demo_clock
from bot.settings import Settings, get_settings


def parse_start(value: str | None) -> datetime | None:
    """An ISO 8601 time with a zone (``Z`` allowed), or None."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no time zone; add one, e.g. {value}+00:00")
    return moment.astimezone(UTC)


def make_clock(speed: float, start: datetime | None) -> Clock:
    """The real clock, or the demo clock when it should run faster or start elsewhere."""
    if speed == 1.0 and start is None:
        return SystemClock()
    return ScaledClock(start=start or datetime.now(UTC), speed=speed)


def serve(settings: Settings, clock: Clock, speed: float) -> None:
    """Run until SIGTERM/SIGINT and exit with the runner's status. A demo clock's time is
    saved on the way out, so the next ``carbot run`` carries it on."""
    from bot.runner import run

    status = asyncio.run(run(settings, clock, speed=speed))
    if isinstance(clock, ScaledClock):
        save_demo_clock(settings.data_dir, clock.now(), clock.speed)
    sys.exit(status)


def demo_clock_carried_on(settings: Settings) -> ScaledClock | None:
    """The demo's clock from where the demo left it, when this data directory ran the demo."""
    saved = saved_demo_clock(settings.data_dir)
    if saved is None:
        return None
    moment, speed = saved
    click.echo(
        f"carbot run: carrying on the demo clock from {moment:%Y-%m-%d %H:%M} UTC at "
        f"{speed:g}× real time (delete {settings.data_dir}/demo-clock.json for the real clock).",
        err=True,
    )
    return ScaledClock(start=moment, speed=speed)


@click.command("run")
@click.option(
    "--demo-speed",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Run the scheduler's clock this many times faster than real time "
    "(default: CARBOT_DEMO_SPEED, normally 1). Only for trying carbot out.",
)
@click.option(
    "--demo-start",
    metavar="ISO",
    default=None,
    help="Start the scheduler's clock at this time, e.g. 2027-03-09T09:55+00:00.",
)
def run_command(demo_speed: float | None, demo_start: str | None) -> None:
    """Run carbot: web app, planning, dispatch, reminders, digests and channels.

    After `carbot demo up` in the same data directory (run or --no-run), the demo's clock
    carries on from where the demo left it, at the demo's speed, unless --demo-speed or
    --demo-start is given.

    Stops cleanly on SIGTERM or Ctrl+C: sends in flight finish, claimed deliveries are handed
    back, and the exit status is 0.
    """
    from bot.channels import missing_channel_settings

    settings = get_settings()
    problems = missing_channel_settings(settings)
    if problems:
        for problem in problems:
            click.echo(f"carbot run: {problem}", err=True)
        sys.exit(2)
    speed = demo_speed if demo_speed is not None else settings.demo_speed
    if speed <= 0:
        raise click.BadParameter("must be positive", param_hint="CARBOT_DEMO_SPEED")
    told = (
        demo_speed is not None
        or demo_start is not None
        or "demo_speed" in settings.model_fields_set
    )
    carried = None if told else demo_clock_carried_on(settings)
    if carried is not None:
        serve(settings, carried, carried.speed)
    else:
        serve(settings, make_clock(speed, parse_start(demo_start)), speed)
