"""The value behind every button carbot shows, built and read in one place.

Two layers, each one encode/decode pair:

- **An action** — what a tap asks for (agree to take part, choose an audience, file a note under a
  project, answer "what we heard", keep or delete after leaving, pause or resume, answer in
  one's own words, or pick one of a prompt's options). :func:`encode` gives its value
  (``Choice.value``, ``InboundMessage.choice``); :func:`decode` reads one back into a typed
  action. The forms are the ones carbot has always sent (``consent:yes``, ``audience:team:last``,
  ``project:<slug>``, ``heard:<id>:yes``, ``withdraw:erase``, a prompt's own option value), so a
  button in an old message still works; ``pause:<span>``, ``resume:now`` and ``answer:own-words``
  are the Slack App Home's and the *Answer* / *Send* buttons'.
- **A button's data on a platform** — the value with the prompt it answers, if any:
  :func:`pack` gives ``<delivery id>|<value>`` (``|<value>`` for a button that answers no prompt),
  refused when over the platform's limit (Telegram: 64 bytes; Slack, and carbot's bound for a
  Teams card: 2,000 characters);
  :func:`unpack` reads that and the JSON form of Slack buttons sent before it
  (``{"v": value, "d": delivery id}``).

The delivery id is only a claim: the core checks that the delivery belongs to whoever tapped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from adapters.numbers import json_int, strict_id

TELEGRAM_LIMIT = 64  # bytes of callback_data
SLACK_LIMIT = 2000  # characters of a button's value
CARD_LIMIT = 2000  # characters of a Teams card button's value: carbot's own bound
TOO_LONG = "button value too long for the platform ({size} > {limit})"
# What a person is told after tapping a button carbot cannot read (every channel says the same).
UNREADABLE = "That button no longer works. Please answer by replying to the question."


@dataclass(frozen=True)
class Consent:
    """Agree to take part (or not)."""

    agreed: bool


@dataclass(frozen=True)
class Withdraw:
    """After ``stop``: keep what was shared, or delete everything."""

    erase: bool


@dataclass(frozen=True)
class SetAudience:
    """Who sees the person's answers from now on, or (``last``) only their last answer."""

    audience: str
    last: bool = False


@dataclass(frozen=True)
class FileNote:
    """Which project the note just sent belongs to (a project's slug)."""

    project: str


@dataclass(frozen=True)
class Heard:
    """An answer to a "what we heard" message: ``right`` True, False, or None when unreadable;
    ``digest_id`` None when the button named no digest carbot could have made."""

    digest_id: int | None
    right: bool | None


@dataclass(frozen=True)
class Pick:
    """One of a prompt's options or scale points (its value as the prompt library gives it), or
    any value carbot does not know, kept as it was tapped."""

    value: str


@dataclass(frozen=True)
class Pause:
    """No questions for a while; ``span`` as a person would type it after "pause" ("1 week")."""

    span: str


@dataclass(frozen=True)
class Resume:
    """Questions again, after a pause."""


@dataclass(frozen=True)
class Write:
    """Answer a prompt in one's own words: Slack's *Answer* (which opens a box to write in) and
    Teams' *Send* under its text box (which brings the words with it)."""


Action = Consent | Withdraw | SetAudience | FileNote | Heard | Pause | Resume | Write | Pick
RESUME = "resume:now"
WRITE = "answer:own-words"


def encode(action: Action) -> str:
    """The value of a button for ``action``."""
    match action:
        case Consent(agreed=agreed):
            return f"consent:{'yes' if agreed else 'no'}"
        case Withdraw(erase=erase):
            return f"withdraw:{'erase' if erase else 'keep'}"
        case SetAudience(audience=audience, last=last):
            return f"audience:{audience}{':last' if last else ''}"
        case FileNote(project=project):
            return f"project:{project}"
        case Heard(digest_id=digest_id, right=right):
            if digest_id is None or right is None:
                raise ValueError("a 'what we heard' button needs its digest and its answer")
            return f"heard:{digest_id}:{'yes' if right else 'no'}"
        case Pause(span=span):
            if not span.strip():
                raise ValueError("a pause button needs how long to pause for")
            return f"pause:{span}"
        case Resume():
            return RESUME
        case Write():
            return WRITE
        case Pick(value=value):
            return value
    raise TypeError(f"not an action: {action!r}")


def decode(value: str | None) -> Action | None:
    """The action a button's value asks for; None for no value. Never fails: a value carbot
    does not know is a :class:`Pick` of it (an option of an older prompt, or words)."""
    value = (value or "").strip()
    if not value:
        return None
    if value in ("withdraw:keep", "withdraw:erase"):
        return Withdraw(erase=value == "withdraw:erase")
    if value == RESUME:
        return Resume()
    if value == WRITE:
        return Write()
    prefix, colon, rest = value.partition(":")
    if colon and prefix == "consent":
        return Consent(agreed=rest == "yes")
    if rest and prefix == "audience":
        audience, _, scope = rest.partition(":")
        return SetAudience(audience, last=scope == "last")
    if rest and prefix == "project":
        return FileNote(rest)
    if rest.strip() and prefix == "pause":
        return Pause(rest.strip())
    if rest and prefix == "heard":
        digest, _, verdict = rest.partition(":")
        right = {"yes": True, "no": False}.get(verdict)
        return Heard(strict_id(digest), right)
    return Pick(value)


@dataclass(frozen=True)
class Tap:
    """What a platform button carried: an action's value, and the prompt it answers."""

    value: str
    delivery_id: int | None = None

    @property
    def action(self) -> Action | None:
        return decode(self.value)


def pack(
    value: str,
    delivery_id: int | None = None,
    *,
    limit: int = TELEGRAM_LIMIT,
    in_bytes: bool = True,
) -> str:
    """A platform button's data for ``value``: ``<delivery id>|<value>``. ``limit`` counts UTF-8
    bytes (``in_bytes``, as Telegram does) or characters (Slack); ValueError when over it."""
    data = f"{'' if delivery_id is None else delivery_id}|{value}"
    size = len(data.encode()) if in_bytes else len(data)
    if size > limit:
        raise ValueError(TOO_LONG.format(size=size, limit=limit))
    return data


def unpack(data: str | None) -> Tap | None:
    """The :class:`Tap` a platform button carried, or None when carbot did not make it (or its
    delivery id is not one carbot could have sent)."""
    if not data:
        return None
    if data.startswith("{"):
        return _unpack_json(data)
    if "|" not in data:
        return None
    head, value = data.split("|", 1)
    if not value:
        return None
    if not head:
        return Tap(value)
    delivery_id = strict_id(head)
    return Tap(value, delivery_id) if delivery_id is not None else None


def _unpack_json(data: str) -> Tap | None:
    """Slack buttons sent before :func:`pack`: ``{"v": value, "d": delivery id}``."""
    try:
        payload = json.loads(data)
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("v"), str):
        return None
    if payload.get("d") is None:
        return Tap(payload["v"])
    delivery_id = json_int(payload["d"])
    return Tap(payload["v"], delivery_id) if delivery_id is not None else None
