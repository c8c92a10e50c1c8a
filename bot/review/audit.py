"""The audit log: who read which reflection, evidence file, search results, report, digest or
export, and when.

Reads are recorded with ids and filters only, never a reflection's words. Every way reflection
words are shown leaves one entry: a reflection page, an evidence file, a list or search, a context
report (``context_report``) or evaluation summary (``evaluation_report``) on the web or the
command line, and a digest opened in the outbox (``read_digest``). Admins read the log in
the workspace (``/review/audit``) and with ``carbot audit``; both go through :func:`entries`.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.review.access import Viewer
from storage.models import AuditLog, User

READ_ACTIONS = (
    "read_reflection",
    "read_evidence",
    "search",
    "context_report",
    "evaluation_report",
    "read_digest",
)
PAGE_LIMIT = 200
CSV_COLUMNS = ["at_utc", "actor", "account", "action", "target", "details"]


async def record(
    sessions: async_sessionmaker[AsyncSession],
    viewer: Viewer,
    action: str,
    target: str,
    **details: Any,
) -> None:
    """One read, in a transaction of its own (pages read in read-only sessions)."""
    async with sessions() as session, session.begin():
        session.add(AuditLog(actor=viewer.actor, action=action, target=target, details=details))


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # "user:3", "cli", or an account's email
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive, UTC days

    def as_params(self) -> dict[str, str]:
        found = {
            "actor": self.actor,
            "action": self.action,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in found.items() if v}


def parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class Entry:
    entry: AuditLog
    account: str  # the email of a "user:<id>" actor, else ""


async def _actor_key(session: AsyncSession, actor: str) -> str:
    if "@" not in actor:
        return actor
    user_id = await session.scalar(select(User.id).where(User.email == actor.lower()))
    return f"user:{user_id}" if user_id is not None else actor


async def entries(
    session: AsyncSession, filters: AuditFilters, limit: int | None = PAGE_LIMIT
) -> list[Entry]:
    """The matching entries, newest first."""
    query = select(AuditLog)
    if filters.actor:
        query = query.where(AuditLog.actor == await _actor_key(session, filters.actor.strip()))
    if filters.action:
        query = query.where(AuditLog.action == filters.action.strip())
    if filters.date_from:
        query = query.where(AuditLog.at >= datetime.combine(filters.date_from, time(), UTC))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), UTC)
        query = query.where(AuditLog.at < end)
    query = query.order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if limit is not None:
        query = query.limit(limit)
    found = list((await session.scalars(query)).all())
    ids = {int(e.actor[5:]) for e in found if e.actor.startswith("user:") and e.actor[5:].isdigit()}
    emails = (
        dict((await session.execute(select(User.id, User.email).where(User.id.in_(ids)))).all())
        if ids
        else {}
    )

    def account(actor: str) -> str:
        if actor.startswith("user:") and actor[5:].isdigit():
            return str(emails.get(int(actor[5:]), ""))
        return ""

    return [Entry(e, account(e.actor)) for e in found]


async def actions(session: AsyncSession) -> list[str]:
    return sorted((await session.scalars(select(AuditLog.action).distinct())).all())


def details_text(details: dict[str, Any]) -> str:
    return "; ".join(f"{key}={value}" for key, value in sorted(details.items()))


def write_csv(found: Sequence[Entry], out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for item in found:
        e = item.entry
        at = e.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        writer.writerow([at, e.actor, item.account, e.action, e.target, details_text(e.details)])
