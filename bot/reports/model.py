"""What a context report holds: its sections of quotes, its evidence inventory and its
evidence-gap table (research question × phase), as the pages, the Word file and the PDF show it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from prompts.library import CONTEXT_TOPICS

SECTION_TITLES = {
    "background": "Background",
    "status": "Current status",
    "challenges": "Immediate challenges",
    "evidence": "Evidence that informed the work",
    "gaps": "Evidence gaps",
}
THIN_REFLECTIONS = 3  # a research question × phase with fewer reflections than this is thin
NO_QUESTION = "No research question"


@dataclass
class Quote:
    text: str
    author: str | None  # None: anonymous to this viewer
    day: date | None  # None: masked (an anonymous reflection shown to a lead)
    phase: str
    question: str
    link: str | None
    evidence: list[str] = field(default_factory=list)  # file names


@dataclass
class EvidenceEntry:
    kind: str
    filename: str
    caption: str
    day: date | None
    phase: str
    question: str
    link: str | None


@dataclass
class GapCell:
    reflections: int = 0
    evidence: int = 0
    started: bool = True  # False: the phase had not begun by the end of the period

    @property
    def thin(self) -> bool:
        return self.started and (self.reflections < THIN_REFLECTIONS or self.evidence == 0)


@dataclass
class GapRow:
    question: str
    cells: list[GapCell]


@dataclass
class ContextReport:
    project: str
    partnership: str
    event: str
    event_kind: str
    event_dates: tuple[date, date]
    period: tuple[date, date]
    aims: str
    research_questions: list[str]
    cycle_now: str
    sections: dict[str, list[Quote]]
    evidence: list[EvidenceEntry]
    gap_phases: list[str]
    gap_cycle: str
    gaps: list[GapRow]
    seen_as: str

    @property
    def title(self) -> str:
        return f"Context report: {self.project}"

    @property
    def section_titles(self) -> list[tuple[str, str]]:
        return [(topic, SECTION_TITLES[topic]) for topic in CONTEXT_TOPICS]

    @property
    def thin_count(self) -> int:
        return sum(cell.thin for row in self.gaps for cell in row.cells)


def day_range(text: tuple[date, date]) -> str:
    start, end = text
    if start == end:
        return f"{start.day} {start:%B %Y}"
    return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"
