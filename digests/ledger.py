"""The Digest table as a ledger: claim, then send, then record — each digest exactly once.

One row per (kind, recipient, scope, period), enforced by a unique constraint: inserting it is
the first claim, and a second worker's insert fails and finds the row. Sending needs the row in
``sending`` with a lease, taken by a conditional UPDATE that must change exactly one row::

    pending ──claim──▶ sending ──ok──▶ sent
                          │  ├─nothing to send (empty week, ``empty_week: skip``)─▶ skipped
                          │  └─lease expires (crash)─▶ claimable again
                          └─error─▶ failed ──next_attempt_at passes──▶ claimable again
                                      └─permanent, or attempts used up: stays failed (visible)

A digest is claimed *before* it is built, so only the claiming worker builds it; ``sent``,
``skipped`` and ``failed`` for good are settled, and no worker looks at them again.

The attempt number taken by the claim is a fencing token: a sender whose lease was taken over
cannot mark the row afterwards.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Digest

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)


@dataclass(frozen=True)
class DigestKey:
    kind: str
    recipient: str
    scope: str
    period: str


def backoff(attempt: int) -> timedelta:
    """1, 2, 4, 8 … minutes after the n-th failed attempt, at most six hours."""
    return min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempt - 1)))


async def ensure(
    sessions: async_sessionmaker[AsyncSession],
    key: DigestKey,
    person_id: int | None,
    now: datetime,
) -> int:
    """The id of the row for ``key``, inserting it (``pending``) if there is none yet."""
    async with sessions() as session:
        found = await session.scalar(_by_key(key))
    if found is not None:
        return found
    try:
        async with sessions() as session, session.begin():
            row = Digest(
                kind=key.kind,
                recipient=key.recipient,
                person_id=person_id,
                scope=key.scope,
                period=key.period,
                status="pending",
                created_at=now,
            )
            session.add(row)
        return row.id
    except IntegrityError:
        log.info("digest %s for %s already recorded by another worker", key.kind, key.period)
    async with sessions() as session:
        found = await session.scalar(_by_key(key))
    if found is None:  # pragma: no cover - the unique constraint said it exists
        raise RuntimeError(f"digest row for {key} vanished")
    return found


def _by_key(key: DigestKey) -> Any:
    return select(Digest.id).where(
        Digest.kind == key.kind,
        Digest.recipient == key.recipient,
        Digest.scope == key.scope,
        Digest.period == key.period,
    )


async def claim(
    sessions: async_sessionmaker[AsyncSession], digest_id: int, now: datetime, lease_seconds: int
) -> int | None:
    """Take the row for sending; the attempt number (fencing token), or None if not claimable."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(Digest)
            .where(
                Digest.id == digest_id,
                or_(
                    Digest.status == "pending",
                    and_(Digest.status == "sending", Digest.lease_until < now),
                    and_(
                        Digest.status == "failed",
                        Digest.next_attempt_at.is_not(None),
                        Digest.next_attempt_at <= now,
                    ),
                ),
            )
            .values(
                status="sending",
                attempts=Digest.attempts + 1,
                lease_until=now + timedelta(seconds=lease_seconds),
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await session.scalar(select(Digest.attempts).where(Digest.id == digest_id))


async def _settle(
    sessions: async_sessionmaker[AsyncSession], digest_id: int, attempt: int, **values: Any
) -> bool:
    """End this worker's attempt at a digest (still ``sending``, still its attempt) with
    ``values``, letting go of the lease; whether the row was still ours."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(Digest)
            .where(Digest.id == digest_id, Digest.status == "sending", Digest.attempts == attempt)
            .values(lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def mark_sent(
    sessions: async_sessionmaker[AsyncSession],
    digest_id: int,
    attempt: int,
    now: datetime,
    message_id: str | None,
    summary: dict[str, Any],
) -> bool:
    done = await _settle(
        sessions, digest_id, attempt,
        status="sent", sent_at=now, next_attempt_at=None, last_error=None,
        message_id=message_id, summary=summary,
    )  # fmt: skip
    if not done:
        log.warning("digest %s was sent but its lease had been taken over", digest_id)
    return done


async def mark_skipped(
    sessions: async_sessionmaker[AsyncSession],
    digest_id: int,
    attempt: int,
    reason: str,
    summary: dict[str, Any],
) -> bool:
    """Record that the digest was deliberately not sent, and why (``summary["skipped"]``)."""
    return await _settle(
        sessions, digest_id, attempt,
        status="skipped", next_attempt_at=None, last_error=None,
        summary={**summary, "skipped": reason},
    )  # fmt: skip


async def mark_failed(
    sessions: async_sessionmaker[AsyncSession],
    digest_id: int,
    attempt: int,
    now: datetime,
    error: str,
    *,
    permanent: bool,
    max_attempts: int,
) -> None:
    give_up = permanent or attempt >= max_attempts
    await _settle(
        sessions, digest_id, attempt,
        status="failed", last_error=error[:2000],
        next_attempt_at=None if give_up else now + backoff(attempt),
    )  # fmt: skip
    log.warning(
        "digest %s failed (attempt %s%s): %s",
        digest_id,
        attempt,
        ", giving up" if give_up else "",
        error,
        extra={"action": "digest_failed"},
    )


async def settled(session: AsyncSession, keys: list[DigestKey]) -> set[DigestKey]:
    """Those of ``keys`` that need nothing more: sent, skipped, or failed for good."""
    if not keys:
        return set()
    periods = {k.period for k in keys}
    rows = (
        await session.execute(
            select(Digest.kind, Digest.recipient, Digest.scope, Digest.period).where(
                Digest.period.in_(periods),
                or_(
                    Digest.status.in_(("sent", "skipped")),
                    and_(Digest.status == "failed", Digest.next_attempt_at.is_(None)),
                ),
            )
        )
    ).all()
    done = {DigestKey(*row) for row in rows}
    return {k for k in keys if k in done}


async def digest_status(session: AsyncSession) -> dict[str, Any]:
    """For ``carbot status``: how many digests are in each state, and the failed ones."""
    counts = dict(
        (await session.execute(select(Digest.status, func.count()).group_by(Digest.status))).all()
    )
    failed = list(
        await session.scalars(
            select(Digest).where(Digest.status == "failed").order_by(Digest.id.desc()).limit(20)
        )
    )
    return {
        "counts": {status: int(n) for status, n in counts.items()},
        "failed": [
            {
                "id": d.id,
                "kind": d.kind,
                "recipient": d.recipient,
                "scope": d.scope,
                "period": d.period,
                "attempts": d.attempts,
                "last_error": d.last_error,
                "next_attempt_at": d.next_attempt_at,
            }
            for d in failed
        ],
    }


async def retry_now(
    sessions: async_sessionmaker[AsyncSession], digest_id: int, now: datetime
) -> bool:
    """Make a failed digest claimable at once (``carbot digest retry``)."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(Digest)
            .where(Digest.id == digest_id, Digest.status == "failed")
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
