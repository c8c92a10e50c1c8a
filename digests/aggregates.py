"""A digest's ratings and choices: each prompt's answers summarised only when enough people gave
them (the small-n rule), a rating's median beside its median over the weeks before."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from digests.audience import DigestKind, enough_people, visible_audiences
from digests.model import TREND_WEEKS, ChoiceSummary, RatingSummary
from digests.schedule import Week
from prompts.choices import answer_label, prompt_options
from storage.models import Delivery, Person, Reflection


async def rating_baseline(
    session: AsyncSession, project_id: int, week: Week, tz: ZoneInfo, kind: DigestKind
) -> dict[str, list[int]]:
    start, _ = week.shifted(-TREND_WEEKS).bounds(tz)
    end, _ = week.bounds(tz)
    rows = (
        await session.execute(
            select(Reflection.scale_value, Delivery.prompt_text)
            .join(Delivery, Reflection.delivery_id == Delivery.id)
            .join(Person, Reflection.person_id == Person.id)
            .where(
                Reflection.project_id == project_id,
                Reflection.kind == "scale",
                Reflection.audience.in_(visible_audiences(kind)),
                Reflection.created_at >= start,
                Reflection.created_at < end,
                Person.withdrawn_at.is_(None),
            )
        )
    ).all()
    values: dict[str, list[int]] = defaultdict(list)
    for value, prompt in rows:
        if value is not None:
            values[prompt].append(value)
    return values


async def ratings_and_choices(
    session: AsyncSession,
    project_id: int,
    week: Week,
    tz: ZoneInfo,
    kind: DigestKind,
    scale: dict[str, list[tuple[int, int, list[Any]]]],
    choice: dict[str, list[tuple[int, str, list[Any]]]],
) -> tuple[list[RatingSummary], list[ChoiceSummary], int]:
    """The week's ratings and choices, each prompt summarised when enough people answered it,
    and how many answers were held back because too few did."""
    held_back = 0
    ratings: list[RatingSummary] = []
    baseline = await rating_baseline(session, project_id, week, tz, kind) if scale else {}
    for prompt, answers in scale.items():
        if not enough_people(p for p, _, _ in answers):
            held_back += len(answers)
            continue
        values = [v for _, v, _ in answers]
        options = answers[0][2]
        earlier = baseline.get(prompt)
        ratings.append(
            RatingSummary(
                prompt=prompt,
                n=len(values),
                distribution=[
                    (
                        v,
                        answer_label("scale", prompt_options(options), scale_value=v),
                        values.count(v),
                    )
                    for v in range(1, 6)
                ],
                median=float(statistics.median(values)),
                previous_median=float(statistics.median(earlier)) if earlier else None,
            )
        )
    choices: list[ChoiceSummary] = []
    for prompt, picks in choice.items():
        if not enough_people(p for p, _, _ in picks):
            held_back += len(picks)
            continue
        counts: dict[str, int] = defaultdict(int)
        for _, value, options in picks:
            counts[answer_label("choice", prompt_options(options), choice=value)] += 1
        choices.append(
            ChoiceSummary(prompt, len(picks), sorted(counts.items(), key=lambda kv: -kv[1]))
        )
    return ratings, choices, held_back
