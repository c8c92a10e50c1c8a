"""The Slack channel: DMs with Block Kit, an answer modal, an App Home and ``/carbot``."""

from __future__ import annotations

from adapters.slack.adapter import SlackChannel, configuration_problems
from adapters.slack.home import HomeProvider, HomeView, RecentAnswer

__all__ = [
    "HomeProvider",
    "HomeView",
    "RecentAnswer",
    "SlackChannel",
    "configuration_problems",
]
