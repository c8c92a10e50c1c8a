"""Telling a command from an answer, and reading a command's arguments."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from adapters.base import InboundMessage

# Words that are a command when they are the whole message, even without a slash.
BARE_WORDS = {
    "help",
    "note",
    "pause",
    "resume",
    "snooze",
    "skip",
    "edit",
    "undo",
    "audience",
    "status",
    "stop",
    "start",
}
AUDIENCE_WORDS = {
    "private": "private",
    "me": "private",
    "researchers": "researchers",
    "research": "researchers",
    "team_anonymous": "team_anonymous",
    "team-anonymous": "team_anonymous",
    "anonymous": "team_anonymous",
    "team": "team",
}
_SPAN = re.compile(r"^(?:for\s+)?(a|an|one|\d{1,3})\s+(day|days|week|weeks)$")
_CODE = re.compile(r"^[A-Za-z0-9-]{6,40}$")


def parse_command(message: InboundMessage) -> tuple[str, str] | None:
    """The (command, arguments) the message carries, or None for an answer."""
    if message.command:
        return message.command.strip().lstrip("/").split("@")[0].lower(), message.args.strip()
    text = (message.text or "").strip()
    if not text or message.attachments:
        return None
    if text.startswith("/"):
        word, _, rest = text[1:].partition(" ")
        return word.split("@")[0].lower(), rest.strip()
    word, _, rest = text.partition(" ")
    word, rest = word.lower().rstrip(".!"), rest.strip()
    if not rest:
        return (word, "") if word in BARE_WORDS else None
    if word.rstrip(":") in ("note", "edit") and not (message.reply_to or message.delivery_id):
        # as HELP says: "note TEXT", "edit TEXT" (a reply to a prompt stays an answer)
        return word.rstrip(":"), rest
    lowered = rest.lower()
    if (
        (word == "pause" and parse_pause(lowered, date(2000, 1, 1)) is not None)
        or (word == "snooze" and lowered in ("later", "tomorrow"))
        or (word == "audience" and lowered.split()[0] in AUDIENCE_WORDS)
        or (word in ("link", "start") and _CODE.match(rest))
    ):
        return word, rest
    return None


def parse_pause(args: str, today: date) -> date | None:
    """The last paused day for "2027-03-01", "until 1 March 2027", "2 weeks", "a week"…"""
    args = args.strip().lower()
    args = args.removeprefix("until ").removeprefix("till ").strip()
    span = _SPAN.match(args)
    if span:
        count = 1 if span.group(1) in ("a", "an", "one") else int(span.group(1))
        days = count * (7 if span.group(2).startswith("week") else 1)
        return today + timedelta(days=days)
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(args, fmt).date()
        except ValueError:
            continue
    for fmt in ("%d %B", "%d %b"):
        try:
            day = datetime.strptime(f"{args} {today.year}", f"{fmt} %Y").date()
        except ValueError:
            continue
        return day if day >= today else day.replace(year=today.year + 1)
    return None
