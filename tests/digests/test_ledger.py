"""The digest ledger on SQLite and PostgreSQL: two workers at once still send each digest once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from bot.engine.digest_jobs import send_due_digests
from digests import ledger
from digests.ledger import DigestKey
from storage.db import transaction
from storage.models import Digest
from tests.digests.factory import add_reflection, add_study, add_team
from tests.digests.helpers import WEEKLY_TIME


class CountingMailer:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: EmailMessage, name: str) -> str:
        await asyncio.sleep(0.01)  # let the other worker run in between
        self.sent.append(str(message["To"]))
        return "250 OK"


async def test_two_workers_running_at_once_send_each_digest_once(any_services: Any) -> None:
    async with transaction(any_services.sessions) as session:
        await add_study(session)
        for index in range(6):
            team = await add_team(
                session,
                slug=f"p{index}",
                name=f"Project {index}",
                members=1,
                lead_email=f"lead{index}@example.org",
            )
            await add_reflection(session, team, team.members[0], f"Reflection {index}")
    mailer = CountingMailer()

    first, second = await asyncio.gather(
        send_due_digests(any_services, WEEKLY_TIME, mailer=mailer),
        send_due_digests(any_services, WEEKLY_TIME, mailer=mailer),
    )

    assert first + second == 6
    assert sorted(mailer.sent) == sorted(f"lead{i}@example.org" for i in range(6))


async def test_a_claim_is_refused_while_the_lease_holds_and_fenced_after_it(
    any_services: Any,
) -> None:
    key = DigestKey("lead_weekly", "lead@example.org", "project:x", "2027-W10")
    sessions = any_services.sessions
    digest_id = await ledger.ensure(sessions, key, None, WEEKLY_TIME)
    assert await ledger.ensure(sessions, key, None, WEEKLY_TIME) == digest_id

    first = await ledger.claim(sessions, digest_id, WEEKLY_TIME, lease_seconds=60)
    assert first == 1
    assert await ledger.claim(sessions, digest_id, WEEKLY_TIME + timedelta(seconds=59), 60) is None
    second = await ledger.claim(sessions, digest_id, WEEKLY_TIME + timedelta(seconds=61), 60)
    assert second == 2

    # the first sender, back from the dead, can no longer mark the row
    assert not await ledger.mark_sent(sessions, digest_id, 1, WEEKLY_TIME, "<a@x>", {})
    assert await ledger.mark_sent(sessions, digest_id, 2, WEEKLY_TIME, "<a@x>", {})
    async with sessions() as session:
        row = await session.scalar(select(Digest).where(Digest.id == digest_id))
    assert (row.status, row.attempts, row.message_id) == ("sent", 2, "<a@x>")
    assert await ledger.claim(sessions, digest_id, WEEKLY_TIME + timedelta(days=1), 60) is None


async def test_attempts_are_capped_and_a_given_up_digest_can_be_retried_by_hand(
    any_services: Any,
) -> None:
    key = DigestKey("lead_weekly", "lead@example.org", "project:x", "2027-W10")
    sessions = any_services.sessions
    digest_id = await ledger.ensure(sessions, key, None, WEEKLY_TIME)
    now = WEEKLY_TIME
    for attempt in (1, 2):
        assert await ledger.claim(sessions, digest_id, now, 60) == attempt
        await ledger.mark_failed(
            sessions, digest_id, attempt, now, "timeout", permanent=False, max_attempts=2
        )
        now += timedelta(hours=7)

    assert await ledger.claim(sessions, digest_id, now, 60) is None
    async with sessions() as session:
        assert await ledger.settled(session, [key]) == {key}
    assert await ledger.retry_now(sessions, digest_id, now)
    assert await ledger.claim(sessions, digest_id, now, 60) == 3
