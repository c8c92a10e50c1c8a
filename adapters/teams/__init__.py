"""The Microsoft Teams channel (Microsoft's Teams SDK for Python, ``microsoft-teams-apps``).

The SDK takes seconds to import, so the channel itself is imported on first use (``carbot``
commands that never touch Teams do not pay for it); the configuration is plain Python.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from adapters.teams.config import CHANNEL, TeamsConfig

if TYPE_CHECKING:
    from adapters.teams.auth import check_credentials
    from adapters.teams.channel import MESSAGES_PATH, MOUNT, EmailLinker, TeamsChannel
    from adapters.teams.manifest import app_package
    from adapters.teams.pacing import CONVERSATION_LIMITS, GLOBAL_RATE, Pacer

_LAZY = {
    "check_credentials": "adapters.teams.auth",
    "MESSAGES_PATH": "adapters.teams.channel",
    "MOUNT": "adapters.teams.channel",
    "EmailLinker": "adapters.teams.channel",
    "TeamsChannel": "adapters.teams.channel",
    "app_package": "adapters.teams.manifest",
    "CONVERSATION_LIMITS": "adapters.teams.pacing",
    "GLOBAL_RATE": "adapters.teams.pacing",
    "Pacer": "adapters.teams.pacing",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'adapters.teams' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


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
