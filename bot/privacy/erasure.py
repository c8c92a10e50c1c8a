"""Erasing one person: everything they shared and everything that names them, then a check.

:func:`erase_person` runs in three steps:

1. one transaction deletes their reflections with the codings and memos on them, their
   deliveries, channel identities (web chat links included), link codes, inbound event rows,
   conversation state, consent records, memberships, the digests sent to them, their web
   account, and the person row; the full-text index follows by trigger (SQLite) or with the
   rows (PostgreSQL); audit entries that named them are rewritten to their study code; and
   one ``people.erase`` audit line is added: study code, when, by whom, why, counts;
2. after the commit, their evidence files are deleted and the outbox is cleaned
   (see :mod:`bot.privacy.outbox`);
3. :func:`bot.privacy.scan.scan` reads every table and file for what is left. The audit line
   records the result; anything left makes the erasure a failure the caller must show.

A table added later is handled too: a nullable foreign key to their rows is set to NULL, a
required one deletes the row — and the scan reports whatever that missed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.errors import NotFound, UsageError
from bot.privacy import outbox
from bot.privacy.plan import planned_counts
from bot.privacy.scan import Finding, ScanResult, scan
from bot.privacy.subject import Subject, gather
from bot.review.throttle import forget_address
from bot.services import Services
from storage.fts import FTS_TABLE, has_fulltext
from storage.models import (
    Attachment,
    AuditLog,
    Base,
    ChannelIdentity,
    Coding,
    ConsentRecord,
    ConversationState,
    Delivery,
    Digest,
    InboundEvent,
    LinkCode,
    Membership,
    Memo,
    Person,
    Reflection,
    User,
)

log = logging.getLogger(__name__)

# Tables whose rows are deleted or rewritten by name below; any other is handled generically.
HANDLED = {
    "attachments",
    "codings",
    "memos",
    "reflections",
    "conversation_states",
    "inbound_events",
    "link_codes",
    "deliveries",
    "digests",
    "consent_records",
    "memberships",
    "channel_identities",
    "users",
    "people",
    "codes",
    "audit_log",
    "sign_in_throttles",
}


@dataclass
class ErasureReport:
    study_code: str
    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)
    scan: ScanResult = field(default_factory=ScanResult)
    audit_id: int | None = None

    @property
    def remaining(self) -> list[Finding]:
        return self.scan.remaining

    @property
    def mentions(self) -> list[Finding]:
        return self.scan.mentions

    @property
    def ok(self) -> bool:
        return self.dry_run or self.scan.clean

    def lines(self) -> list[str]:
        """The report as a person reads it (CLI output, the web page)."""
        verb = "Would delete" if self.dry_run else "Deleted"
        counted = ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items()) if n)
        out = [f"{verb} for {self.study_code}: {counted or 'nothing'}."]
        if not self.dry_run:
            if self.scan.clean:
                out.append(
                    f"Checked {self.scan.tables} tables and {self.scan.files} files: "
                    "nothing of them remains."
                )
            else:
                out.append(f"ERASURE INCOMPLETE — still held ({len(self.remaining)}):")
                out.extend(f"  - {finding}" for finding in self.remaining)
        if self.mentions:
            out.append(
                f"{len(self.mentions)} place(s) written by others mention them; "
                "ask whoever wrote them to edit:"
            )
            out.extend(f"  - {finding}" for finding in self.mentions)
        return out


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


async def _find_person(session: AsyncSession, person_key: str, *, lock: bool) -> Person:
    """The person row; locked for the erasure (PostgreSQL), so a message they send meanwhile
    waits, then finds nobody, instead of adding a row the erasure would not see."""
    query = select(Person).where(Person.key == person_key)
    person = await session.scalar(query.with_for_update() if lock else query)
    if person is None:
        raise NotFound(f"No person with the key {person_key!r}.")
    return person


def check_reason(subject: Subject, reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise UsageError("Say why the data is erased (--reason), e.g. 'asked by email'.")
    if subject.matcher().found(reason):
        raise UsageError(
            "The reason would name the person in the audit log, which is kept: "
            "say why without their name, email or words."
        )
    return reason[:500]


async def _delete_rows(session: AsyncSession, subject: Subject, counts: Counter[str]) -> list[str]:
    """Delete what is theirs (in foreign-key order); the evidence paths no one else uses."""
    reflections, identities = subject.reflection_ids, subject.identity_ids
    paths = [path for path, _sha in subject.evidence]
    if reflections:
        counts["evidence files"] = _count(
            await session.execute(
                delete(Attachment).where(Attachment.reflection_id.in_(reflections))
            )
        )
        counts["codings"] = _count(
            await session.execute(delete(Coding).where(Coding.reflection_id.in_(reflections)))
        )
        counts["memos"] = _count(
            await session.execute(delete(Memo).where(Memo.reflection_id.in_(reflections)))
        )
    if subject.digest_ids:
        await session.execute(
            update(Reflection)
            .where(Reflection.digest_id.in_(subject.digest_ids))
            .values(digest_id=None)
        )
    counts["reflections"] = _count(
        await session.execute(delete(Reflection).where(Reflection.person_id == subject.person_id))
    )
    if identities:
        counts["conversation states"] = _count(
            await session.execute(
                delete(ConversationState).where(ConversationState.identity_id.in_(identities))
            )
        )
        counts["inbound events"] = _count(
            await session.execute(
                delete(InboundEvent).where(InboundEvent.identity_id.in_(identities))
            )
        )
        for model in (Delivery, Reflection):  # someone else's rows, through a re-linked identity
            await session.execute(
                update(model).where(model.identity_id.in_(identities)).values(identity_id=None)
            )
        await session.execute(
            update(LinkCode)
            .where(LinkCode.used_by_identity_id.in_(identities))
            .values(used_by_identity_id=None)
        )
    counts["link codes"] = _count(
        await session.execute(delete(LinkCode).where(LinkCode.person_id == subject.person_id))
    )
    counts["deliveries"] = _count(
        await session.execute(delete(Delivery).where(Delivery.person_id == subject.person_id))
    )
    if subject.digest_ids:
        counts["digests sent to them"] = _count(
            await session.execute(delete(Digest).where(Digest.id.in_(subject.digest_ids)))
        )
    counts["consent records"] = _count(
        await session.execute(
            delete(ConsentRecord).where(ConsentRecord.person_id == subject.person_id)
        )
    )
    counts["memberships"] = _count(
        await session.execute(delete(Membership).where(Membership.person_id == subject.person_id))
    )
    await _generic(session, subject)
    counts["web chat links"] = subject.webchat_links
    counts["channel identities"] = _count(
        await session.execute(
            delete(ChannelIdentity).where(ChannelIdentity.person_id == subject.person_id)
        )
    )
    if subject.user_ids:
        for work in ("codes", "codings", "memos"):
            table = Base.metadata.tables[work]
            await session.execute(
                table.update()
                .where(table.c.created_by.in_(subject.user_ids))
                .values(created_by=None)
            )
        counts["web accounts"] = _count(
            await session.execute(delete(User).where(User.id.in_(subject.user_ids)))
        )
    for address in subject.emails:
        await forget_address(session, address)
    await session.execute(delete(Person).where(Person.id == subject.person_id))
    return paths


async def _generic(session: AsyncSession, subject: Subject) -> None:
    """Tables not named above: NULL a nullable foreign key to their rows, else delete the row."""
    ids = subject.ids
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in HANDLED:
            continue
        for column in table.columns:
            for key in column.foreign_keys:
                targets = ids.get(key.column.table.name)
                if not targets:
                    continue
                if column.nullable:
                    await session.execute(
                        table.update().where(column.in_(targets)).values({column.name: None})
                    )
                else:
                    await session.execute(table.delete().where(column.in_(targets)))


def _scrub(value: Any, replace: Any) -> Any:
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, list):
        return [_scrub(v, replace) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, replace) for k, v in value.items()}
    return value


async def _pseudonymise_audit(session: AsyncSession, subject: Subject) -> int:
    """Audit entries that named them (key, email, name) now say their study code instead."""
    matcher = subject.matcher()
    name = re.compile(re.escape(subject.name), re.IGNORECASE) if subject.name.strip() else None

    def replace(value: str) -> str:
        value = matcher.replace(value, subject.study_code)
        return name.sub(subject.study_code, value) if name else value

    changed = 0
    for row in await session.scalars(select(AuditLog)):
        if not (matcher.found(row.target or "") or matcher.found(str(row.details or ""))):
            continue
        row.target = replace(row.target or "")[:320]
        row.details = _scrub(dict(row.details or {}), replace)
        changed += 1
    return changed


async def _unused(session: AsyncSession, paths: list[str]) -> list[str]:
    if not paths:
        return []
    used = set(await session.scalars(select(Attachment.path).where(Attachment.path.in_(paths))))
    return sorted({path for path in paths if path not in used})


def _unlink(data_dir: Path, paths: list[str]) -> int:
    gone = 0
    root = Path(data_dir).resolve()
    for relative in paths:
        path = (root / relative).resolve()
        if path.is_relative_to(root) and path.is_file():
            path.unlink()
            gone += 1
    return gone


async def _tidy_search_index(services: Services) -> None:
    """SQLite keeps deleted words in FTS5 segments until they merge; merge them now."""
    if services.engine.dialect.name != "sqlite":
        return
    async with services.engine.begin() as connection:
        if await connection.run_sync(has_fulltext):
            optimize = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')"
            await connection.execute(text(optimize))


async def erase_person(
    services: Services,
    person_key: str,
    *,
    actor: str,
    reason: str,
    now: datetime,
    dry_run: bool = False,
) -> ErasureReport:
    """Erase ``person_key``'s data (or say what would go); check, and record the result."""
    settings = services.settings
    roots = [Path(settings.data_dir), Path(settings.outbox_dir)]
    async with services.sessions() as session, session.begin():
        if services.engine.dialect.name == "sqlite":
            await session.execute(text("PRAGMA secure_delete=ON"))
        person = await _find_person(session, person_key, lock=not dry_run)
        subject = await gather(session, person)
        reason = check_reason(subject, reason)
        report = ErasureReport(study_code=subject.study_code, dry_run=dry_run)
        hits = await asyncio.to_thread(
            outbox.find, subject, subject.matcher(), Path(settings.outbox_dir)
        )
        if dry_run:
            report.counts.update(await planned_counts(session, subject))
            report.counts["outbox emails to delete"] = sum(h.delete for h in hits)
            report.counts["outbox emails to cut"] = sum(not h.delete for h in hits)
            before = await scan(session, subject, roots)
            report.scan.mentions = before.mentions
            return report
        paths = await _delete_rows(session, subject, report.counts)
        report.counts["audit entries pseudonymised"] = await _pseudonymise_audit(session, subject)
        unused = await _unused(session, paths)
        audit = AuditLog(
            at=now,
            actor=actor,
            action="people.erase",
            target=subject.study_code,
            details={"reason": reason, "counts": {k: v for k, v in report.counts.items() if v}},
        )
        session.add(audit)
        await session.flush()
        report.audit_id = audit.id
    report.counts["evidence files"] = await asyncio.to_thread(_unlink, settings.data_dir, unused)
    deleted, cut = await asyncio.to_thread(outbox.apply, hits, now)
    report.counts["outbox emails deleted"], report.counts["outbox emails cut"] = deleted, cut
    await _tidy_search_index(services)
    async with services.sessions() as session, session.begin():
        report.scan = await scan(session, subject, roots)
        row = await session.get(AuditLog, report.audit_id)
        assert row is not None
        row.details = {
            **row.details,
            "counts": {k: v for k, v in report.counts.items() if v},
            "verified": report.scan.clean,
            "remaining": len(report.scan.remaining),
            "mentions": len(report.scan.mentions),
        }
    if report.scan.clean:
        log.info("erased %s", subject.study_code, extra={"action": "people.erase"})
    else:
        log.error(
            "erasure of %s is incomplete: %d things remain",
            subject.study_code,
            len(report.scan.remaining),
            extra={"action": "people.erase_incomplete"},
        )
    return report
