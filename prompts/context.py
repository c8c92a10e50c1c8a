"""Context prompts before an event: which one, if any, a planned slot asks instead of the usual.

In the :data:`CONTEXT_WEEKS` weeks before a retreat or local event, each participant of a project
taking part is asked the library's context prompts (background, status, challenges, evidence,
gaps) one at a time, in that order, each once. They take the place of the usual prompt in slots
the cadence already planned, so the weekly cap, the gap between prompts and working hours hold
exactly as on any other week. Pure: dates and timelines in, a prompt (or None) out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from prompts.library import ChosenPrompt, Library, ResearchQuestionLike

CONTEXT_WEEKS = 3


@dataclass(frozen=True)
class EventWindow:
    """An event a project takes part in, and the day its context prompts start."""

    key: str
    name: str
    starts_on: date

    @property
    def opens_on(self) -> date:
        return self.starts_on - timedelta(weeks=CONTEXT_WEEKS)

    def open_on(self, day: date) -> bool:
        return self.opens_on <= day < self.starts_on


def context_prompt(
    library: Library,
    windows: Sequence[EventWindow],
    day: date,
    timeline: Sequence[tuple[datetime, str]],
    research_questions: Sequence[ResearchQuestionLike],
    seed: str,
) -> ChosenPrompt | None:
    """The next context prompt for a slot on local ``day``, or None for the usual choice.

    ``timeline``: the person's prompts (slot, key); a context prompt planned since the window
    opened is not asked again.
    """
    window = min((w for w in windows if w.open_on(day)), key=lambda w: w.starts_on, default=None)
    if window is None:
        return None
    asked = {key for when, key in timeline if when.date() >= window.opens_on}
    for item in library.context_series():
        if item.key not in asked:
            chosen = library.render(item, research_questions, {}, seed)
            when = f"{window.starts_on:%A} {window.starts_on.day} {window.starts_on:%B}"
            return replace(chosen, text=f"Before {window.name} ({when}): {chosen.text}")
    return None
