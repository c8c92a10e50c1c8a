"""The Teams app package: ``manifest.json`` (schema v1.29) with its colour and outline icons.

``carbot teams manifest`` writes it as a zip to upload in the Teams admin centre (Manage apps →
Upload new app) or as a custom app. The bot is personal-scope only, accepts files (evidence),
and suggests the commands people may type; Teams shows at most ten in a list.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageDraw

SCHEMA_VERSION = "1.29"
SCHEMA_URL = f"https://developer.microsoft.com/json-schemas/teams/v{SCHEMA_VERSION}/MicrosoftTeams.schema.json"
ACCENT = "#1F6F5C"
COLOR_SIZE = 192  # Teams: the colour icon is 192 × 192, the outline icon 32 × 32, white on clear
OUTLINE_SIZE = 32


@dataclass(frozen=True)
class Command:
    title: str  # Teams allows 32 characters
    description: str  # and 128 here


COMMANDS: tuple[Command, ...] = (
    Command("help", "What I can do and how to answer"),
    Command("note", "Add a note or evidence, not tied to a question"),
    Command("pause", "Pause questions, e.g. pause 2 weeks for leave"),
    Command("resume", "Start questions again after a pause"),
    Command("snooze", "Ask me this question again later"),
    Command("skip", "Skip the current question"),
    Command("edit", "Change your last answer"),
    Command("undo", "Take back your last answer"),
    Command("audience", "Choose who may see your answers"),
    Command("status", "Your projects, pauses and who sees your answers"),
)


def manifest(app_id: str, public_url: str, *, version: str = "1.0.0") -> dict[str, Any]:
    """The manifest for the bot ``app_id``, its pages at ``public_url`` (which must be HTTPS)."""
    base = public_url.rstrip("/")
    host = urlsplit(base).hostname
    if not base.lower().startswith("https://") or not host:
        raise ValueError(
            "Teams needs an HTTPS public URL for the app's pages: set CARBOT_PUBLIC_URL "
            "(or pass --public-url)"
        )
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": SCHEMA_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": "carbot",
            "websiteUrl": f"{base}/",
            "privacyUrl": f"{base}/",
            "termsOfUseUrl": f"{base}/",
        },
        "name": {"short": "carbot", "full": "carbot: reflective check-ins for action research"},
        "description": {
            "short": "Short reflective questions for your improvement project.",
            "full": (
                "carbot asks you a short question about your project now and then, at a "
                "sensible time in your working hours. Answer with a tap, a few words, a photo "
                "or a file. You choose who sees your answers. Type help to see what it can do."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal"],
                "supportsFiles": True,
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": ["personal"],
                        "commands": [
                            {"title": c.title, "description": c.description} for c in COMMANDS
                        ],
                    }
                ],
            }
        ],
        "validDomains": [host],
    }


def _mark(size: int, colour: str, background: str | None) -> bytes:
    """carbot's mark: a speech bubble, filled on the colour icon, white on the outline one."""
    image = Image.new("RGBA", (size, size), background or (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    pad = size // 6
    draw.rounded_rectangle(
        (pad, pad, size - pad, size - 2 * pad),
        radius=size // 8,
        outline=colour,
        width=max(2, size // 16),
    )
    tail = [(size // 3, size - 2 * pad), (size // 3, size - pad), (size // 2, size - 2 * pad)]
    draw.polygon(tail, fill=colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def icons() -> dict[str, bytes]:
    return {
        "color.png": _mark(COLOR_SIZE, "#FFFFFF", ACCENT),
        "outline.png": _mark(OUTLINE_SIZE, "#FFFFFF", None),
    }


def app_package(app_id: str, public_url: str, *, version: str = "1.0.0") -> bytes:
    """The zip Teams takes: manifest.json and the two icons, at the top level."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        text = json.dumps(manifest(app_id, public_url, version=version), indent=2)
        package.writestr("manifest.json", text + "\n")
        for name, data in icons().items():
            package.writestr(name, data)
    return out.getvalue()
