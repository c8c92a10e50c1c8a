"""The shapes of a weekly digest, as the templates read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from digests.audience import SMALL_N, DigestKind
from digests.schedule import Week
from digests.themes import Theme
from digests.timeline import Timeline

COUNTED = ("sent", "reminded", "answered", "expired")  # the response-rate denominator
HISTORY_WEEKS = 6
TREND_WEEKS = 4
NO_QUESTION = "Not tied to a research question"
NO_PHASE = "Outside any phase"
# What the conversation core stores when someone taps "That's right" on "what we heard".
CONFIRMATIONS = frozenset({"That's right"})


@dataclass
class Item:
    """One reflection as a digest shows it."""

    id: int
    text: str
    kind: str
    url: str
    author: str | None = None  # only for ``team`` reflections in a lead's digest
    when: str | None = None  # only with an author
    prompt: str | None = None
    phase: str | None = None
    question: str | None = None
    earlier: bool = False  # an anonymous item held back in an earlier week, shown now


@dataclass
class PhaseGroup:
    name: str
    items: list[Item] = field(default_factory=list)


@dataclass
class QuestionSection:
    title: str
    groups: list[PhaseGroup] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(group.items) for group in self.groups)


@dataclass
class RatingSummary:
    prompt: str
    n: int
    distribution: list[tuple[int, str, int]]  # (value, label, count), 1…5
    median: float
    previous_median: float | None

    @property
    def trend(self) -> str:
        if self.previous_median is None:
            return "new"
        if self.median > self.previous_median:
            return "up"
        if self.median < self.previous_median:
            return "down"
        return "steady"


@dataclass
class ChoiceSummary:
    prompt: str
    n: int
    counts: list[tuple[str, int]]


@dataclass
class EvidenceItem:
    reflection_id: int
    kind: str  # photo, file, voice
    filename: str
    caption: str
    url: str
    alt: str
    author: str | None = None
    attachment_id: int = 0
    path: str = ""  # relative to the data directory
    size: int = 0
    content_type: str = ""
    cid: str | None = None  # set when the photo is embedded in the email


@dataclass(kw_only=True)
class Rate:
    """How many people were asked and how many of them answered."""

    asked: int = 0
    answered: int = 0

    @property
    def rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None


@dataclass(kw_only=True)
class WeekRate(Rate):
    label: str


@dataclass
class Engagement:
    people_prompted: int
    people_answered: int
    answers: int
    history: list[WeekRate]  # oldest first; the last is this week
    # the median estimated answering minutes per participant in the week's month so far
    # (None: no prompts, or fewer than three participants: held back)
    month_minutes: float | None = None
    month_label: str = ""

    @property
    def this_week(self) -> WeekRate:
        return self.history[-1]

    @property
    def rate(self) -> float | None:
        return self.this_week.rate

    @property
    def previous_rate(self) -> float | None:
        earlier = [week for week in self.history[:-1] if week.asked]
        if not earlier:
            return None
        return sum(w.answered for w in earlier) / sum(w.asked for w in earlier)


@dataclass
class WeeklyDigest:
    kind: DigestKind
    project_name: str
    project_slug: str
    partnership_name: str
    week: Week
    zone: str
    engagement: Engagement
    sections: list[QuestionSection]
    plans: list[Item]
    feedback: list[Item]
    evidence: list[EvidenceItem]
    ratings: list[RatingSummary]
    choices: list[ChoiceSummary]
    held_back: int
    aggregates_held_back: int
    confirmations: int
    timeline: Timeline | None
    themes: list[Theme]
    review_url: str
    participants: int = SMALL_N  # taking part in the project now

    @property
    def too_small_for_anonymity(self) -> bool:
        """Fewer than three participants: anonymous items and summaries can never be shown."""
        return self.participants < SMALL_N

    @property
    def shown_count(self) -> int:
        return sum(s.count for s in self.sections) + len(self.plans) + len(self.feedback)

    @property
    def is_empty(self) -> bool:
        """Nothing asked, nothing heard, nothing held back: the ``empty_week`` case."""
        return not (
            self.engagement.this_week.asked
            or self.shown_count
            or self.evidence
            or self.ratings
            or self.choices
            or self.held_back
            or self.aggregates_held_back
            or self.confirmations
        )


def review_link(public_url: str, reflection_id: int) -> str:
    return f"{public_url.rstrip('/')}/review/reflections/{reflection_id}"


def format_rate(rate: float | None) -> str:
    return "–" if rate is None else f"{round(rate * 100)}%"


def day_text(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"
