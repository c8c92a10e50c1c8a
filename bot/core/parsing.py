"""Telling a command from an answer, and reading a command's arguments."""

from __future__ import annotations

import re
from datetime import date, timedelta

from adapters.base import InboundMessage
from adapters.errors import NoSuchDate

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
    "mydata",
    *("withdraw", "leave", "quit", "unsubscribe", "optout", "opt-out"),
}
# Two-word messages that are a command as a whole. ("time" alone stays an answer: it is a fair
# answer to "what got in the way?"; "/time" and "my time" ask for the time summary.)
PHRASES = {"opt out": "optout", "my data": "mydata", "my time": "time"}
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
_SPAN = re.compile(r"^(?:for )?(a|an|one|[0-9]{1,3}) (day|days|week|weeks)$")
_CODE = re.compile(r"^[A-Za-z0-9-]{6,40}$")


def _is_pause_date(args: str) -> bool:
    """Whether "pause …" names a time to pause until, even a day that does not exist."""
    try:
        return parse_pause(args, date(2000, 1, 1)) is not None
    except NoSuchDate:
        return True


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
    phrase = " ".join(text.lower().rstrip(".!?").split())
    if phrase in PHRASES:
        return PHRASES[phrase], ""
    word, _, rest = text.partition(" ")
    word, rest = word.lower().rstrip(".!"), rest.strip()
    if not rest:
        return (word, "") if word in BARE_WORDS else None
    if word.rstrip(":") in ("note", "edit") and not (message.reply_to or message.delivery_id):
        # as HELP says: "note TEXT", "edit TEXT" (a reply to a prompt stays an answer)
        return word.rstrip(":"), rest
    lowered = rest.lower()
    if (
        (word == "pause" and _is_pause_date(lowered))
        or (word == "snooze" and lowered in ("later", "tomorrow"))
        or (word == "audience" and lowered.split()[0] in AUDIENCE_WORDS)
        or (word in ("link", "start") and _CODE.match(rest))
    ):
        return word, rest
    return None


def parse_pause(args: str, today: date) -> date | None:
    """The last paused day for "2027-03-01", "until 1 March 2027", "2 weeks", "a week"…

    None when the words are not a date or a span; :class:`NoSuchDate` when they name a day that
    does not exist, so the person can be told so rather than shown the general hint.
    """
    args = " ".join(args.strip().lower().split())
    args = args.removeprefix("until ").removeprefix("till ").strip()
    span = _SPAN.match(args)
    if span:
        count = 1 if span.group(1) in ("a", "an", "one") else int(span.group(1))
        days = count * (7 if span.group(2).startswith("week") else 1)
        return today + timedelta(days=days)
    iso = _ISO.match(args)
    if iso:
        return _day(int(iso[1]), int(iso[2]), int(iso[3]))
    slashed = _SLASHED.match(args)
    if slashed:
        return _day(int(slashed[3]), int(slashed[2]), int(slashed[1]))
    named = _NAMED.match(args)
    if named is None or named[2] not in _MONTHS:
        return None
    number, month = int(named[1]), _MONTHS[named[2]]
    if named[3]:
        return _day(int(named[3]), month, number)
    # the next such day: this year's if it is still to come, otherwise next year's
    year = today.year if (month, number) >= (today.month, today.day) else today.year + 1
    return _day(year, month, number)


_ISO = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_SLASHED = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
_NAMED = re.compile(r"^([0-9]{1,2}) ([a-z]+)(?: ([0-9]{4}))?$")
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTHS = {
    **{name: n for n, name in enumerate(_MONTH_NAMES, 1)},
    **{name[:3]: n for n, name in enumerate(_MONTH_NAMES, 1)},
    "sept": 9,
}


def _day(year: int, month: int, number: int) -> date:
    try:
        return date(year, month, number)
    except ValueError:
        if 1 <= month <= 12:
            raise NoSuchDate(f"{number} {_MONTH_NAMES[month - 1].title()} {year}") from None
        raise NoSuchDate(f"month {month} in {year}") from None
