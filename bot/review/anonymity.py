"""The lead's digest rule, applied to the review workspace.

A lead sees a ``team_anonymous`` reflection here only when their weekly digest shows (or will
show) it: the small-n rule of :mod:`digests.audience`, replayed week by week in the zone the
digest uses (the lead's own, else the partnership's). Such a reflection is shown without time or
channel, is reached by a handle that is not its id (ids follow time), and is listed in an order
that follows neither author nor time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from digests.audience import released
from digests.data import pooled
from digests.schedule import Week, zone
from storage.models import Partnership, Person, Project, Reflection

HANDLE_LENGTH = 20


async def released_to_lead(
    session: AsyncSession, project_ids: Iterable[int], person_zone: str | None, fallback: str
) -> frozenset[int]:
    """The ids of the ``team_anonymous`` reflections of these projects a lead's digest shows."""
    wanted = sorted(set(project_ids))
    if not wanted:
        return frozenset()
    zones = {
        project_id: zone(person_zone or partnership_zone, fallback)
        for project_id, partnership_zone in await session.execute(
            select(Project.id, Partnership.timezone)
            .join(Partnership, Project.partnership_id == Partnership.id)
            .where(Project.id.in_(wanted))
        )
    }
    rows = await session.scalars(
        select(Reflection)
        .options(
            load_only(
                Reflection.id,
                Reflection.person_id,
                Reflection.project_id,
                Reflection.created_at,
                Reflection.kind,
                Reflection.text,
                Reflection.audience,
            )
        )
        .join(Person, Reflection.person_id == Person.id)
        .where(
            Reflection.project_id.in_(wanted),
            Reflection.audience == "team_anonymous",
            Person.withdrawn_at.is_(None),
        )
    )
    by_project: dict[int, list[tuple[int, int, date]]] = defaultdict(list)
    for reflection in rows:
        if not pooled("lead_weekly", reflection) or reflection.project_id is None:
            continue
        tz = zones[reflection.project_id]
        monday = Week.containing(reflection.created_at.astimezone(tz).date()).monday
        by_project[reflection.project_id].append((reflection.id, reflection.person_id, monday))
    shown: set[int] = set()
    for items in by_project.values():
        shown |= released(items)
    return frozenset(shown)


def handle(key: bytes, viewer_key: str, reflection_id: int) -> str:
    """A reflection's name for one viewer: stable, and telling nothing of its id or time."""
    digest = hmac.new(key, f"anonymous:{viewer_key}:{reflection_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:HANDLE_LENGTH]
