"""How long an answer took: an estimate, by a method stated in the README ("Time spent").

1. **From the channel's times.** When the channel tells when the prompt reached the person (its
   send time today: no channel reports when a message was read) and the answer came within
   :data:`CAP` of it, the estimate is that interval (at least :data:`TAP_SECONDS`): they read
   the prompt and answered in one go.
2. **Otherwise, from the answer's length and kind**: a tap (a rating or a choice) is
   :data:`TAP_SECONDS`; a written answer is reading the question at :data:`READING_WPM` words
   a minute plus writing the answer at :data:`WRITING_WPM` words a minute; each photo, file or
   voice note adds :data:`FILE_SECONDS`.

No estimate exceeds :data:`CAP`. Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

CAP = 600  # seconds: no answer counts for more than ten minutes
TAP_SECONDS = 20
READING_WPM = 200
WRITING_WPM = 30
FILE_SECONDS = 60
TAPS = ("scale", "choice")


@dataclass(frozen=True)
class Part:
    """One message of an answer: its kind (``text``, ``scale``, ``choice``, ``evidence``…),
    its words and how many files it carried."""

    kind: str
    text: str = ""
    files: int = 0


def _words(text: str) -> int:
    return len(text.split())


def by_length(prompt_text: str, parts: Sequence[Part]) -> int:
    """Method 2: seconds from the answer's length and kind."""
    if parts and all(part.kind in TAPS and not part.files for part in parts):
        return min(CAP, TAP_SECONDS * len(parts))
    seconds = 60 * _words(prompt_text) / READING_WPM
    for part in parts:
        if part.kind in TAPS:
            seconds += TAP_SECONDS
        seconds += 60 * _words(part.text) / WRITING_WPM + FILE_SECONDS * part.files
    return min(CAP, max(TAP_SECONDS, round(seconds)))


def answer_seconds(
    prompt_text: str,
    parts: Sequence[Part],
    reached_at: datetime | None = None,
    answered_at: datetime | None = None,
) -> int:
    """The estimated seconds an answer took (method 1 when the times allow, else method 2)."""
    if reached_at is not None and answered_at is not None:
        interval = (answered_at - reached_at).total_seconds()
        if 0 <= interval <= CAP:
            return max(TAP_SECONDS, round(interval))
    return by_length(prompt_text, parts)


def minutes(seconds: float) -> int:
    """Seconds as whole minutes for people to read ("about 9 minutes"); at least 1 when any."""
    return max(1, round(seconds / 60)) if seconds > 0 else 0
