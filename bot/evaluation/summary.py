"""An event's evaluation summary, in the retreat report's own terms.

Per scale item: n (the people who answered it), the distribution over 1–5 and the share
scoring 4 or 5 ("75% to 85% scoring the Retreat positively (4 or 5 out of 5)"). Per free-text
item: n and the comments grouped by theme (the codes researchers applied to them; the others
under "Not yet coded"). Nobody is named: no names, study codes, dates or channels, comments in
an order that follows neither author nor time. The small-n rule of the digests applies: an item
with fewer than :data:`~digests.audience.SMALL_N` respondents shows only that it is held back.

An answer belongs to an event when it answers an ``evaluation`` item asked of a taking-part
project in the event's evaluation window; each person counts once per item (their latest
answer). ``private`` answers are never counted; a lead counts the ``team`` and
``team_anonymous`` answers of their own projects, a researcher also ``researchers`` ones.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.evaluation.events import EVALUATION_DAYS, EventInfo
from bot.evaluation.plan import EVENT_PLACEHOLDER
from bot.review.access import LEAD_AUDIENCES, RESEARCHER_AUDIENCES, Viewer
from digests.audience import SMALL_N, unlinkable_order
from prompts.library import PromptItem, prompt_set
from storage.models import Code, Coding, Delivery, Reflection

UNCODED = "Not yet coded"
POSITIVE = (4, 5)


@dataclass
class ScaleItem:
    key: str
    question: str
    counts: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    @property
    def positive(self) -> int:
        return sum(self.counts[point] for point in POSITIVE)

    @property
    def share_positive(self) -> float:
        """The share scoring 4 or 5, 0–1."""
        return self.positive / self.n if self.n else 0.0

    @property
    def held_back(self) -> bool:
        return self.n < SMALL_N


@dataclass
class TextItem:
    key: str
    question: str
    n: int = 0
    themes: list[tuple[str, list[str]]] = field(default_factory=list)  # (theme, comments)

    @property
    def held_back(self) -> bool:
        return self.n < SMALL_N


@dataclass
class EvaluationSummary:
    event: EventInfo
    asked: int  # people asked at least one item
    responded: int  # people who answered at least one item counted here
    scales: list[ScaleItem]
    texts: list[TextItem]


def _question(item: PromptItem, event: EventInfo) -> str:
    return item.text.replace(EVENT_PLACEHOLDER, event.name)


async def summarise(session: AsyncSession, event: EventInfo, viewer: Viewer) -> EvaluationSummary:
    """The evaluation figures of ``event`` as ``viewer`` may see them."""
    items = prompt_set("evaluation")
    allowed = viewer.project_ids()
    projects = sorted(event.project_ids if allowed is None else event.project_ids & allowed)
    first = event.ends_on + timedelta(days=1)
    last = event.ends_on + timedelta(days=EVALUATION_DAYS + 1)  # a day's slack for time zones
    keys = [item.key for item in items]
    in_window = (
        Delivery.project_id.in_(projects),
        Delivery.prompt_key.in_(keys),
        Delivery.slot >= _midnight(first) - timedelta(hours=14),
        Delivery.slot < _midnight(last),
    )
    asked = await session.scalars(
        select(Delivery.person_id)
        .where(*in_window, Delivery.status.not_in(("planned", "cancelled")))
        .distinct()
    )
    rows = await session.execute(
        select(
            Reflection.id,
            Reflection.person_id,
            Delivery.prompt_key,
            Reflection.kind,
            Reflection.scale_value,
            Reflection.text,
        )
        .join(Delivery, Delivery.id == Reflection.delivery_id)
        .where(*in_window, _audiences(viewer))
        .order_by(Reflection.created_at, Reflection.id)
    )
    latest: dict[tuple[str, int], tuple[int, str, int | None, str]] = {}
    for reflection_id, person_id, key, kind, value, text in rows.all():
        latest[(key, person_id)] = (reflection_id, kind, value, text)
    themes = await _themes(session, [found[0] for found in latest.values()])
    scales: list[ScaleItem] = []
    texts: list[TextItem] = []
    for item in items:
        answers = [found for (key, _), found in latest.items() if key == item.key]
        if item.kind == "scale":
            scale = ScaleItem(item.key, _question(item, event))
            for _, kind, value, _ in answers:
                if kind == "scale" and value in scale.counts:
                    scale.counts[value] += 1
            scales.append(scale)
        else:
            words = [(rid, text.strip()) for rid, _, _, text in answers if text.strip()]
            grouped: dict[str, list[tuple[int, str]]] = defaultdict(list)
            for rid, text in words:
                for theme in themes.get(rid) or [UNCODED]:
                    grouped[theme].append((rid, text))
            ordered = sorted(grouped, key=lambda t: (t == UNCODED, -len(grouped[t]), t))
            texts.append(
                TextItem(
                    item.key,
                    _question(item, event),
                    n=len(words),
                    themes=[
                        (
                            theme,
                            [
                                text
                                for _, text in unlinkable_order(
                                    grouped[theme], key=lambda pair: pair[0], salt=event.key
                                )
                            ],
                        )
                        for theme in ordered
                    ],
                )
            )
    responded = {person for (_, person) in latest}
    return EvaluationSummary(event, len(set(asked)), len(responded), scales, texts)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _audiences(viewer: Viewer) -> ColumnElement[bool]:
    """The answers counted for ``viewer``: never ``private``; on a project they only lead,
    ``team`` and ``team_anonymous``; elsewhere ``researchers`` too."""
    if viewer.is_admin:
        return Reflection.audience.in_(RESEARCHER_AUDIENCES)
    lead_only = sorted(viewer.lead_projects - viewer.researcher_projects)
    return or_(
        Reflection.project_id.in_(sorted(viewer.researcher_projects))
        & Reflection.audience.in_(RESEARCHER_AUDIENCES),
        Reflection.project_id.in_(lead_only) & Reflection.audience.in_(LEAD_AUDIENCES),
    )


async def _themes(session: AsyncSession, reflection_ids: list[int]) -> dict[int, list[str]]:
    """Each reflection's theme names: the codes applied to it, alphabetically."""
    if not reflection_ids:
        return {}
    rows = await session.execute(
        select(Coding.reflection_id, Code.name)
        .join(Code, Code.id == Coding.code_id)
        .where(Coding.reflection_id.in_(reflection_ids))
    )
    found: dict[int, set[str]] = defaultdict(set)
    for reflection_id, name in rows.all():
        found[reflection_id].add(name)
    return {rid: sorted(names) for rid, names in found.items()}


def percent(share: float) -> str:
    return f"{round(100 * share)}%"


def summary_lines(summary: EvaluationSummary) -> list[str]:
    """The summary as plain text (``carbot report evaluation``)."""
    event = summary.event
    lines = [
        f"Evaluation of {event.name} ({event.starts_on:%d %b %Y} to {event.ends_on:%d %b %Y})",
        f"{summary.responded} of {summary.asked} people asked answered at least one item.",
        "",
    ]
    for scale in summary.scales:
        if scale.held_back:
            lines.append(f"{scale.question}\n  held back: fewer than {SMALL_N} answers")
            continue
        spread = ", ".join(f"{point}: {scale.counts[point]}" for point in range(1, 6))
        lines.append(
            f"{scale.question}\n  {percent(scale.share_positive)} scored 4 or 5 "
            f"({scale.positive} of n={scale.n}); {spread}"
        )
    for text in summary.texts:
        lines.append("")
        if text.held_back:
            lines.append(f"{text.question}\n  held back: fewer than {SMALL_N} answers")
            continue
        lines.append(f"{text.question} (n={text.n})")
        for theme, comments in text.themes:
            lines.append(f"  {theme} ({len(comments)})")
            lines.extend(f"    – {comment}" for comment in comments)
    return lines


HELD = f"fewer than {SMALL_N}"
CSV_HEADER = ["item", "question", "n", "share_4_or_5", "1", "2", "3", "4", "5", "theme", "comment"]


def write_summary_csv(summary: EvaluationSummary, path: Path) -> int:
    """The summary as CSV: a row per scale item, a row per comment; held-back items have n
    only. Returns the rows written (header excluded)."""
    rows: list[list[str]] = []
    for scale in summary.scales:
        if scale.held_back:
            rows.append([scale.key, scale.question, HELD, *[""] * 8])
            continue
        rows.append(
            [
                scale.key,
                scale.question,
                str(scale.n),
                f"{scale.share_positive:.3f}",
                *(str(scale.counts[point]) for point in range(1, 6)),
                "",
                "",
            ]
        )
    for text in summary.texts:
        if text.held_back:
            rows.append([text.key, text.question, HELD, *[""] * 8])
            continue
        for theme, comments in text.themes:
            for comment in comments:
                rows.append(
                    [text.key, text.question, str(text.n), "", "", "", "", "", "", theme, comment]
                )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)
    return len(rows)
