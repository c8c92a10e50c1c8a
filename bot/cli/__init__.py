"""The ``carbot`` command line. Each area's commands live in a module of their own here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, TypeVar

import click

from bot.services import Services
from bot.settings import Settings, get_settings

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def with_services(
    func: Callable[..., Awaitable[T]],
) -> Callable[..., T]:
    """Run an async command body with :class:`Services` built from the settings, then close."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        async def body() -> T:
            services = Services.from_settings(get_settings())
            try:
                return await func(services, *args, **kwargs)
            finally:
                await services.close()

        return run_async(body())

    return wrapper


class _Carbot(click.Group):
    """The ``carbot`` group. Its commands are added on first use rather than on import, so a
    command module elsewhere (a channel's, in ``bot.channels``) may import ``bot.cli`` for
    :func:`with_services` without an import cycle."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._commands: dict[str, click.Command] = {}
        self._registered = False
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        if not self._registered:
            self._registered = True
            _register(self)
        return self._commands

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._commands = dict(value)


@click.group(
    cls=_Carbot,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="carbot")
def main() -> None:
    """carbot: short reflective prompts for Collaborative Action Research.

    Settings come from CARBOT_* environment variables or a .env file (see the README).
    """
    settings: Settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.log_level.upper() != "DEBUG":
        # Alembic narrates every step at INFO; an admin wants the outcome.
        logging.getLogger("alembic").setLevel(logging.WARNING)


def _register(main: click.Group) -> None:
    from bot.cli import (
        audit,
        codebook,
        db,
        demo,
        digest,
        export,
        people,
        report,
        retention,
        run,
        simulate,
        status,
        study,
        user,
    )

    main.add_command(db.db)
    main.add_command(study.study)
    main.add_command(status.status)
    main.add_command(digest.digest)
    main.add_command(user.user)
    main.add_command(export.export)
    main.add_command(codebook.codebook)
    main.add_command(people.people)
    main.add_command(simulate.simulate_command, name="simulate")
    main.add_command(run.run_command, name="run")
    main.add_command(demo.demo)
    main.add_command(audit.audit)
    main.add_command(retention.retention)
    main.add_command(report.report)

    from bot.channels import CHANNELS

    for channel in CHANNELS:
        for command in channel.commands():
            main.add_command(command)
