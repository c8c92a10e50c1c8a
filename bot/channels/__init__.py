"""The channels carbot has, and which of them this process runs.

A channel is a platform folder ``adapters/<name>/`` (the platform side: it imports only
``adapters.base``, the shared ``adapters`` helpers and its SDK), one app-side module
``bot/channels/<name>.py`` (settings → adapter, its configuration problems, its extra scheduler
steps, its ``carbot <name>`` commands, its database-backed providers such as Slack's App Home)
and one line in :data:`CHANNELS`. The scheduler, the runner and the CLI iterate :data:`CHANNELS`
and never name a concrete channel.

``build_channels(services)`` returns the configured channels, not yet started; ``carbot run``
starts each with the conversation core's handler and mounts their routes on the web app.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import click

from adapters.base import Channel
from bot.services import Services
from bot.settings import Settings, blank_settings

log = logging.getLogger(__name__)

StepRun = Callable[[datetime], Awaitable[int]]


@dataclass(frozen=True)
class ChannelPlugin:
    """What carbot needs to know about one channel, on its app side."""

    name: str  # the adapter's ``Channel.name`` and the stored ``ChannelIdentity.channel``
    build: Callable[[Services], Channel | None]  # None: not configured, so not run
    problems: Callable[[Settings], list[str]] = lambda _settings: []
    # Extra scheduler steps with the digests (named, each given "now"), for a built channel.
    steps: Callable[[Services, Channel], list[tuple[str, StepRun]]] = lambda _s, _c: []
    # Routes of its own that take bodies over the web app's 1 MB default: (path pattern, bytes).
    body_limits: Callable[[Settings], list[tuple[re.Pattern[str], int]]] = lambda _settings: []
    # Its ``carbot <name> …`` command groups; imported only when the CLI asks (they import it).
    commands: Callable[[], Sequence[click.Command]] = lambda: ()


def _registry() -> tuple[ChannelPlugin, ...]:
    from bot.channels import slack, teams, telegram, webchat

    return (webchat.PLUGIN, telegram.PLUGIN, slack.PLUGIN, teams.PLUGIN)


CHANNELS: tuple[ChannelPlugin, ...] = _registry()


def missing_channel_settings(settings: Settings) -> list[str]:
    """What a half-configured channel lacks, one plain sentence each; empty when all is well.

    A channel is configured by its token; once the token is set, the settings its mode needs
    must be set too, or ``carbot run`` refuses to start (rather than dying half-way). A
    setting given as blank or whitespace counts as a problem of its own, not as set.
    """
    problems = blank_settings(settings)
    if problems:
        return problems
    return [problem for plugin in CHANNELS for problem in plugin.problems(settings)]


def build_channels(services: Services) -> list[Channel]:
    """The channels whose settings are present, web chat first (on ``services.clock``)."""
    channels = [c for c in (plugin.build(services) for plugin in CHANNELS) if c is not None]
    log.info("channels: %s", ", ".join(channel.name for channel in channels))
    return channels


def channel_steps(services: Services, channels: Mapping[str, Channel]) -> list[tuple[str, StepRun]]:
    """The extra scheduler steps of the running channels, in registry order."""
    return [
        step
        for plugin in CHANNELS
        if plugin.name in channels
        for step in plugin.steps(services, channels[plugin.name])
    ]
