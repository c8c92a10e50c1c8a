"""Leases on deliveries: claiming due ones for one worker, and handing them back.

Every move is a conditional UPDATE that must change exactly one row. On PostgreSQL one
transaction selects the due rows ``FOR UPDATE SKIP LOCKED`` and marks them ``sending`` with the
worker's lease, so concurrent workers take disjoint rows; on SQLite (one writer at a time)
one conditional UPDATE claims the batch and returns the rows it claimed. Rows left ``sending``
by a worker that died are due again once their lease has run out. A claim is not an attempt:
the dispatcher counts one just before each platform call (:func:`bot.engine.dispatch` marks the
row), so a worker killed while it holds a batch uses up an attempt only of the one row it was
sending.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.deliveries import move_many, move_many_returning
from bot.services import Services
from storage.db import is_sqlite, transaction
from storage.models import Delivery, utcnow

log = logging.getLogger(__name__)


async def renew_lease(
    session: AsyncSession, delivery_id: int, worker: str, lease_until: datetime
) -> bool:
    """Extend ``worker``'s lease on a delivery it is still sending (not a change of state)."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == "sending",
            Delivery.lease_owner == worker,
        )
        .values(lease_until=lease_until)
    )
    return cast(int, getattr(result, "rowcount", 0)) == 1


def _due(now: datetime) -> Any:
    return or_(
        and_(Delivery.status == "planned", Delivery.due_at <= now),
        and_(Delivery.status == "sending", Delivery.lease_until < now),
    )


async def claim_due(services: Services, now: datetime, *, worker: str, limit: int) -> list[int]:
    """Claim up to ``limit`` due deliveries for ``worker``; returns their ids, oldest due first."""
    lease_until = now + timedelta(seconds=services.settings.dispatch_lease_seconds)
    claim = {"lease_owner": worker, "lease_until": lease_until}  # not an attempt: see above
    candidates = select(Delivery.id).where(_due(now)).order_by(Delivery.due_at, Delivery.id)
    if not is_sqlite(services.engine):
        async with transaction(services.sessions) as session:
            ids = list(
                await session.scalars(candidates.limit(limit).with_for_update(skip_locked=True))
            )
            if ids:
                await move_many(
                    session, [Delivery.id.in_(ids)], "sending", "claimed", now, values=claim
                )
        return ids
    # SQLite has one writer at a time: one UPDATE takes the write lock, re-checks that each
    # candidate is still due, and returns exactly the rows it claimed.
    async with transaction(services.sessions) as session:
        claimed = await move_many_returning(
            session,
            [Delivery.id.in_(candidates.limit(limit).scalar_subquery()), _due(now)],
            "sending",
            "claimed",
            now,
            values=claim,
        )
    if not claimed:
        return []
    async with services.sessions() as session:  # oldest due first, as on PostgreSQL
        return list(
            await session.scalars(
                select(Delivery.id)
                .where(Delivery.id.in_(claimed))
                .order_by(Delivery.due_at, Delivery.id)
            )
        )


async def release(
    services: Services, delivery_ids: list[int], *, worker: str, now: datetime | None = None
) -> int:
    """Give unsent claims back (``planned``); returns how many."""
    if not delivery_ids:
        return 0
    async with transaction(services.sessions) as session:
        released = await move_many(
            session,
            [Delivery.id.in_(delivery_ids), Delivery.lease_owner == worker],
            "planned",
            "released",
            now or utcnow(),  # a release on shutdown has no step clock
        )
    if released:
        log.info("released %d claimed deliveries", released, extra={"action": "dispatch.release"})
    return released


async def release_leases(services: Services, *, worker: str) -> int:
    """Release every delivery ``worker`` still holds (used on shutdown, after sends finish)."""
    async with services.sessions() as session:
        ids = list(
            await session.scalars(
                select(Delivery.id).where(
                    Delivery.status == "sending", Delivery.lease_owner == worker
                )
            )
        )
    return await release(services, ids, worker=worker)
