"""The Microsoft Teams channel (Microsoft's Teams SDK for Python, ``microsoft-teams-apps``)."""

from __future__ import annotations

from adapters.teams.auth import check_credentials
from adapters.teams.channel import MESSAGES_PATH, MOUNT, EmailLinker, TeamsChannel
from adapters.teams.config import CHANNEL, TeamsConfig
from adapters.teams.manifest import app_package
from adapters.teams.pacing import CONVERSATION_LIMITS, GLOBAL_RATE, Pacer

__all__ = [
    "CHANNEL",
    "CONVERSATION_LIMITS",
    "GLOBAL_RATE",
    "MESSAGES_PATH",
    "MOUNT",
    "EmailLinker",
    "Pacer",
    "TeamsChannel",
    "TeamsConfig",
    "app_package",
    "check_credentials",
]
