"""Time spent, from the database (each answer estimated by ``prompts.timecost``): a person's
own total, each project's monthly median per participant (never per named person; a month with
fewer than three participants is held back), and what the planner counts against a monthly
time budget."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from digests.audience import SMALL_N
from prompts.timecost import CAP, Part, answer_seconds
from storage.models import OPEN_STATUSES, Attachment, Delivery, Reflection

# deliveries that may still cost a person time: the planner holds the most an answer can cost
RESERVED = ("planned", "sending", *OPEN_STATUSES)
COUNTED = ("sent", "reminded", "answered", "expired")


@dataclass(frozen=True)
class Cost:
    person_id: int
    project_id: int
    slot: datetime
    answered_at: datetime
    seconds: int


@dataclass(frozen=True)
class Spent:
    questions: int
    seconds: int


@dataclass(frozen=True)
class MonthMedian:
    month: date  # the first day of the month
    people: int  # participants asked something that month
    median_minutes: float | None  # None: held back (fewer than SMALL_N participants)


def _chunks(values: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


async def answer_costs(session: AsyncSession, *where: ColumnElement[bool]) -> list[Cost]:
    """The estimated cost of each answered delivery matching ``where``."""
    rows = (
        await session.execute(
            select(
                Delivery.id,
                Delivery.person_id,
                Delivery.project_id,
                Delivery.slot,
                Delivery.sent_at,
                Delivery.answered_at,
                Delivery.prompt_text,
            ).where(Delivery.status == "answered", Delivery.answered_at.is_not(None), *where)
        )
    ).all()
    parts: dict[int, list[Part]] = defaultdict(list)
    for chunk in _chunks([row.id for row in rows]):
        found = await session.execute(
            select(
                Reflection.delivery_id,
                Reflection.kind,
                Reflection.text,
                func.count(Attachment.id),
            )
            .outerjoin(Attachment, Attachment.reflection_id == Reflection.id)
            .where(Reflection.delivery_id.in_(chunk))
            .group_by(Reflection.id, Reflection.delivery_id, Reflection.kind, Reflection.text)
            .order_by(Reflection.id)
        )
        for delivery_id, kind, text, files in found.all():
            if delivery_id is not None:
                parts[delivery_id].append(Part(kind, text or "", int(files)))
    return [
        Cost(
            row.person_id,
            row.project_id,
            row.slot,
            row.answered_at,
            answer_seconds(row.prompt_text, parts[row.id], row.sent_at, row.answered_at),
        )
        for row in rows
    ]


async def person_spent(
    session: AsyncSession, person_id: int, since: datetime, until: datetime | None = None
) -> Spent:
    """The questions a person answered from ``since`` (to ``until``) and their estimated time."""
    where = [Delivery.person_id == person_id, Delivery.answered_at >= since]
    if until is not None:
        where.append(Delivery.answered_at < until)
    costs = await answer_costs(session, *where)
    return Spent(len(costs), sum(c.seconds for c in costs))


def month_of(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date().replace(day=1)


async def project_medians(
    session: AsyncSession,
    project_ids: Iterable[int],
    zone: ZoneInfo,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[int, list[MonthMedian]]:
    """Each project's median estimated minutes per participant per month (by the month of the
    prompt, in ``zone``), over the participants asked something that month; a month with fewer
    than :data:`SMALL_N` of them is held back. Oldest month first. ``start`` and ``end`` bound
    the prompts' slots (whole months are meant)."""
    ids = sorted(set(project_ids))
    if not ids:
        return {}
    bounds: list[ColumnElement[bool]] = [Delivery.project_id.in_(ids)]
    if start is not None:
        bounds.append(Delivery.slot >= start)
    if end is not None:
        bounds.append(Delivery.slot < end)
    asked: dict[tuple[int, date], set[int]] = defaultdict(set)
    rows = await session.execute(
        select(Delivery.project_id, Delivery.person_id, Delivery.slot).where(
            *bounds, Delivery.status.in_(COUNTED)
        )
    )
    for project_id, person_id, slot in rows.all():
        asked[(project_id, month_of(slot, zone))].add(person_id)
    seconds: dict[tuple[int, date], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for cost in await answer_costs(session, *bounds):
        seconds[(cost.project_id, month_of(cost.slot, zone))][cost.person_id] += cost.seconds
    out: dict[int, list[MonthMedian]] = defaultdict(list)
    for (project_id, month), people in sorted(asked.items(), key=lambda item: item[0]):
        spent = seconds[(project_id, month)]
        median = (
            statistics.median(spent.get(person, 0) for person in people) / 60
            if len(people) >= SMALL_N
            else None
        )
        out[project_id].append(MonthMedian(month, len(people), median))
    return dict(out)


async def budget_spent(
    session: AsyncSession, person_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, int]]]:
    """What counts against each person's time budget between ``start`` and ``end``, as
    (slot, seconds): an answered prompt its estimate, a prompt still planned or open the most an
    answer can cost (:data:`~prompts.timecost.CAP`), anything else nothing."""
    found: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for chunk in _chunks(sorted(person_ids)):
        window = (Delivery.person_id.in_(chunk), Delivery.slot >= start, Delivery.slot < end)
        for cost in await answer_costs(session, *window):
            found[cost.person_id].append((cost.slot, cost.seconds))
        held = await session.execute(
            select(Delivery.person_id, Delivery.slot).where(*window, Delivery.status.in_(RESERVED))
        )
        for person_id, slot in held.all():
            found[person_id].append((slot, CAP))
    return found
