"""Which Slack permission each Web API method needs, checked against the app manifest.

Every method the adapter calls is listed here. ``tests/slack`` fails when the adapter calls a
method that is missing, or that needs a scope the manifest does not grant; and when the manifest
grants a scope or subscribes to an event that nothing here uses.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")

# Web API method → bot token scopes it needs (all of them). ``files.download`` stands for the
# authenticated GET of a file's ``url_private``.
BOT_METHOD_SCOPES: dict[str, frozenset[str]] = {
    "auth.test": frozenset(),
    "conversations.open": frozenset({"im:write"}),
    "conversations.history": frozenset({"im:history"}),
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "views.open": frozenset(),
    "views.publish": frozenset(),
    "users.lookupByEmail": frozenset({"users:read", "users:read.email"}),
    "files.info": frozenset({"files:read"}),
    "files.download": frozenset({"files:read"}),
}
# Methods called with the app-level token (Socket Mode), whose scope is set on that token.
APP_METHOD_SCOPES: dict[str, frozenset[str]] = {
    "apps.connections.open": frozenset({"connections:write"}),
}
# Scopes that come with a feature rather than a method: the slash command.
FEATURE_SCOPES = frozenset({"commands"})
# Events the adapter listens to → the scopes Slack requires for them.
EVENT_SCOPES: dict[str, frozenset[str]] = {
    "message.im": frozenset({"im:history"}),
    "app_home_opened": frozenset(),
}


@cache
def manifest() -> dict[str, Any]:
    """The app manifest, parsed."""
    data = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{MANIFEST_PATH} is not a mapping")
    return data


def granted_scopes() -> frozenset[str]:
    """The bot token scopes the manifest asks for."""
    return frozenset(manifest()["oauth_config"]["scopes"]["bot"])


def subscribed_events() -> frozenset[str]:
    return frozenset(manifest()["settings"]["event_subscriptions"]["bot_events"])


def missing_scopes(method: str) -> frozenset[str] | None:
    """Scopes ``method`` needs that the manifest does not grant; None for an unknown method."""
    if method in APP_METHOD_SCOPES:
        return frozenset()
    needed = BOT_METHOD_SCOPES.get(method)
    if needed is None:
        return None
    return needed - granted_scopes()


def unused_scopes() -> frozenset[str]:
    """Scopes the manifest grants that no method, event or feature here needs."""
    used = set(FEATURE_SCOPES)
    for scopes in (*BOT_METHOD_SCOPES.values(), *EVENT_SCOPES.values()):
        used |= scopes
    return granted_scopes() - used


ROUTES = {
    "events": "/slack/events",
    "interactivity": "/slack/interactivity",
    "commands": "/slack/commands",
}


def manifest_text(mode: str = "socket", public_url: str | None = None) -> str:
    """The manifest to paste into Slack: the file as it is for Socket Mode, or with carbot's
    request URLs (under ``public_url``) for HTTP mode."""
    if mode == "socket":
        return MANIFEST_PATH.read_text(encoding="utf-8")
    if mode != "http":
        raise ValueError(f"unknown Slack mode {mode!r}; expected socket or http")
    if not public_url or not public_url.startswith("https://"):
        raise ValueError("HTTP mode needs a public https:// URL that Slack can reach")
    base = public_url.rstrip("/")
    data = copy.deepcopy(manifest())
    data["settings"]["socket_mode_enabled"] = False
    data["settings"]["event_subscriptions"]["request_url"] = base + ROUTES["events"]
    data["settings"]["interactivity"]["request_url"] = base + ROUTES["interactivity"]
    for command in data["features"]["slash_commands"]:
        command["url"] = base + ROUTES["commands"]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
