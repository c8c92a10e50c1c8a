"""Calling off planned deliveries that must not go out any more (a step of planning).

Each planned delivery gets the verdict of :mod:`prompts.verdict`; one called off is moved to the
status the delivery table gives its reason (a withdrawn or self-paused person's prompt is
``skipped``; one whose project, membership or phase ended, that falls in leave, or that is no
longer inside the person's working time is ``cancelled``). Each change is a conditional move from
``planned``, so a delivery being claimed by dispatch at the same moment is left alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.engine.availability import consent_of, judge
from bot.engine.deliveries import called_off_status, move, why
from bot.services import Services
from storage.db import transaction
from storage.models import (
    ChannelIdentity,
    ConsentRecord,
    Cycle,
    Delivery,
    Membership,
    Person,
    Phase,
    Project,
)

log = logging.getLogger(__name__)

CHUNK = 2000  # planned deliveries read at a time


def eligible_person_clauses() -> list[Any]:
    """People who may be prompted: active, not withdrawn, consenting, with a working channel."""
    return [
        Person.active.is_(True),
        Person.withdrawn_at.is_(None),
        exists().where(ConsentRecord.person_id == Person.id, ConsentRecord.withdrawn_at.is_(None)),
        exists().where(ChannelIdentity.person_id == Person.id, ChannelIdentity.status == "active"),
    ]


async def tidy_planned(services: Services, now: datetime) -> int:
    """Call off planned deliveries that must not go out any more; return how many.

    Skipped: the person withdrew, lost consent or paused themselves (``paused_until``).
    Cancelled: the project, membership or phase ended, the slot falls in a pause for leave, or
    it is no longer inside the person's working time.

    The planned rows are read :data:`CHUNK` at a time, as plain columns (no ORM objects), with
    the people and projects they belong to, so memory stays flat however many are planned.
    """
    async with services.sessions() as session:
        eligible = set(
            (
                await session.execute(
                    select(Membership.person_id, Membership.project_id)
                    .join(Person, Membership.person_id == Person.id)
                    .where(
                        Membership.role == "participant",
                        Membership.active.is_(True),
                        *eligible_person_clauses(),
                    )
                )
            ).all()
        )
        consenting = set(
            (
                await session.execute(
                    select(ConsentRecord.person_id).where(ConsentRecord.withdrawn_at.is_(None))
                )
            ).scalars()
        )
        phase_ranges = await _phase_ranges(session)
        projects = {
            project.id: project
            for project in await session.scalars(
                select(Project).options(selectinload(Project.partnership))
            )
        }
    changed, after = 0, 0
    while True:
        async with services.sessions() as session:
            rows = (
                await session.execute(
                    select(
                        Delivery.id,
                        Delivery.person_id,
                        Delivery.project_id,
                        Delivery.slot,
                        Delivery.due_at,
                        Phase.starts_on,
                        Phase.ends_on,
                    )
                    .outerjoin(Phase, Delivery.phase_id == Phase.id)
                    .where(Delivery.status == "planned", Delivery.id > after)
                    .order_by(Delivery.id)
                    .limit(CHUNK)
                )
            ).all()
            if not rows:
                return changed
            after = rows[-1].id
            people = {
                person.id: person
                for person in await session.scalars(
                    select(Person).where(Person.id.in_({row.person_id for row in rows}))
                )
            }
        for number, row in enumerate(rows):
            if number % 200 == 0:
                await asyncio.sleep(0)  # leave the event loop to sends meanwhile
            person, project = people.get(row.person_id), projects.get(row.project_id)
            if person is None or project is None:
                continue
            own = [(row.starts_on, row.ends_on)] if row.starts_on is not None else None
            try:
                decided = judge(
                    person,
                    project,
                    row.slot,
                    now,
                    zone=services.settings.default_timezone,
                    due=row.due_at,
                    phases=own or phase_ranges.get(project.id, []),
                    consent=consent_of(person, consenting=person.id in consenting),
                    in_project=project.active and (person.id, project.id) in eligible,
                )
            except (ValueError, ZoneInfoNotFoundError) as exc:
                log.warning("cannot check delivery %d: %s", row.id, exc)
                continue
            if decided.called_off and decided.reason != "awaiting_consent":
                reason = decided.reason or ""
                changed += await _call_off(services, row.id, called_off_status(reason), reason, now)


async def _phase_ranges(session: AsyncSession) -> dict[int, list[tuple[date, date]]]:
    rows = await session.execute(
        select(Cycle.project_id, Phase.starts_on, Phase.ends_on).join(
            Cycle, Phase.cycle_id == Cycle.id
        )
    )
    ranges: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for project_id, starts_on, ends_on in rows.all():
        ranges[project_id].append((starts_on, ends_on))
    return ranges


async def _call_off(
    services: Services, delivery_id: int, status: str, reason: str, now: datetime
) -> int:
    async with transaction(services.sessions) as session:
        moved = await move(session, delivery_id, status, reason, now, expected_from="planned")
    if moved:
        log.info(
            "delivery %d %s: %s",
            delivery_id,
            status,
            why(reason),
            extra={"action": f"delivery_{status}", "delivery_id": delivery_id},
        )
        return 1
    return 0
