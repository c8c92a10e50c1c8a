"""Progressive sign-in throttling: per address from one client, per client, per address.

Failed sign-ins are counted under three keys. Once a key has had its share of failures, sign-in
under it waits 30 s, doubling with each further failure up to a ceiling; an attempt made while
waiting is refused at once (HTTP 429, "try again in N seconds"), without checking the password
and without counting. A key's failures are forgotten an hour after the last one; a successful
sign-in clears the address's keys. Nobody but an admin (``carbot user disable``) can shut an
account: a stranger who knows an email can slow its sign-in by a minute at a time at most.

=================  ============  ============================================================
key                waits after   longest wait
=================  ============  ============================================================
address + client   5 failures    15 minutes — someone guessing one account's password
client             20 failures   15 minutes — someone trying many addresses
address            20 failures   1 minute — guessing from many clients, never a lock-out
=================  ============  ============================================================

Unknown addresses are counted exactly like real ones, so throttling says nothing about which
accounts exist. Keys are stored as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SignInThrottle

FIRST_WAIT = timedelta(seconds=30)
FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Rule:
    after: int
    longest: timedelta

    def wait(self, failures: int) -> timedelta | None:
        if failures < self.after:
            return None
        return min(FIRST_WAIT * 2 ** min(failures - self.after, 20), self.longest)


PER_ADDRESS_AND_CLIENT = Rule(5, timedelta(minutes=15))
PER_CLIENT = Rule(20, timedelta(minutes=15))
PER_ADDRESS = Rule(20, timedelta(minutes=1))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def address_digest(email: str) -> str:
    return _digest("address", email.strip().lower())


def _keys(email: str, client: str) -> list[tuple[str, str, Rule]]:
    """(key, address digest, rule) for one attempt."""
    address = address_digest(email)
    return [
        (_digest("pair", address, client), address, PER_ADDRESS_AND_CLIENT),
        (_digest("client", client), "", PER_CLIENT),
        (address, address, PER_ADDRESS),
    ]


async def waiting(
    session: AsyncSession, email: str, client: str, now: datetime
) -> timedelta | None:
    """How long this address from this client must still wait, if at all."""
    keys = [key for key, _address, _rule in _keys(email, client)]
    until = await session.scalar(
        select(func.max(SignInThrottle.wait_until)).where(
            SignInThrottle.key.in_(keys), SignInThrottle.wait_until > now
        )
    )
    return until - now if until is not None else None


async def record_failure(
    session: AsyncSession, email: str, client: str, now: datetime
) -> timedelta | None:
    """Count a failed sign-in under each key; returns the wait it starts, if any."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        delete(SignInThrottle).where(SignInThrottle.last_failed_at < now - FORGET_AFTER)
    )
    longest: timedelta | None = None
    for key, address, rule in _keys(email, client):
        values = insert(SignInThrottle).values(
            key=key, address=address, failures=1, last_failed_at=now, wait_until=None
        )
        upsert = values.on_conflict_do_update(
            index_elements=[SignInThrottle.key],
            set_={
                "failures": case(
                    (SignInThrottle.last_failed_at < now - FORGET_AFTER, 1),
                    else_=SignInThrottle.failures + 1,
                ),
                "last_failed_at": now,
            },
        ).returning(SignInThrottle.failures)
        failures = int((await session.execute(upsert)).scalar_one())
        wait = rule.wait(failures)
        if wait is not None:
            await session.execute(
                update(SignInThrottle)
                .where(SignInThrottle.key == key)
                .values(wait_until=now + wait)
            )
            longest = max(longest, wait) if longest else wait
    return longest


async def forget_address(session: AsyncSession, email: str) -> None:
    """After a successful sign-in (or an admin's reset): this address waits for nothing more.

    The client's own count stays, so that one good account does not let a client try others
    freely."""
    await session.execute(
        delete(SignInThrottle).where(SignInThrottle.address == address_digest(email))
    )


def try_again_in(wait: timedelta) -> str:
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"
