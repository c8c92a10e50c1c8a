"""Retention: each day, delete what the study file's ``retention:`` says is kept no longer.

=================  ==============================================  ===========================
kind               what goes                                       age measured from
=================  ==============================================  ===========================
``reflections``    reflections, with their evidence files,         when it was written
                   codings and memos (and search-index rows)
``evidence``       evidence files and their rows (the reflection   when the file arrived
                   and its words stay)
``inbound_events`` the platform event ids kept to drop repeats     when the event arrived
``deliveries``     prompts sent or planned, unless a kept          the prompt's slot
                   reflection still answers one
``digests``        digest records and their outbox ``.eml`` files  when the digest was made
``audit_log``      audit log lines                                 when it was written
=================  ==============================================  ===========================

:func:`preview` says what a run at ``now`` would remove; :func:`retention_once` removes it, then
checks that nothing older is left (rows and files) and fails loudly if anything is, and writes
one audit line with the counts.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.errors import RetentionLeftovers
from bot.services import Services
from bot.study.options import duration_days
from storage.models import (
    Attachment,
    AuditLog,
    Coding,
    Delivery,
    Digest,
    InboundEvent,
    Memo,
    Reflection,
)
from storage.queries import study_options

log = logging.getLogger(__name__)

KINDS = ("reflections", "evidence", "inbound_events", "deliveries", "digests", "audit_log")


@dataclass
class Plan:
    """What a run at ``now`` removes: per kind, the period, the cut-off and how many rows."""

    now: datetime
    periods: dict[str, str] = field(default_factory=dict)
    cutoffs: dict[str, datetime] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def periods(session: AsyncSession) -> dict[str, str]:
    """The study's retention periods as written (``{"reflections": "24 months"}``)."""
    found = (await study_options(session)).get("retention") or {}
    return {kind: str(found[kind]) for kind in KINDS if found.get(kind)}


def _old(kind: str, cutoffs: dict[str, datetime]) -> ColumnElement[bool]:
    """The rows of ``kind`` a run with these cut-offs removes."""
    cutoff = cutoffs[kind]
    if kind == "reflections":
        return Reflection.created_at < cutoff
    if kind == "evidence":
        return Attachment.created_at < cutoff
    if kind == "inbound_events":
        return InboundEvent.received_at < cutoff
    if kind == "deliveries":
        kept = Reflection.delivery_id == Delivery.id
        if "reflections" in cutoffs:  # a reflection this run removes answers nothing any more
            kept = kept & (Reflection.created_at >= cutoffs["reflections"])
        answered = exists().where(kept)
        return (Delivery.slot < cutoff) & ~answered
    if kind == "digests":
        return (Digest.created_at < cutoff) & Digest.status.in_(("sent", "skipped", "failed"))
    return AuditLog.at < cutoff


MODELS: dict[str, Any] = {
    "reflections": Reflection,
    "evidence": Attachment,
    "inbound_events": InboundEvent,
    "deliveries": Delivery,
    "digests": Digest,
    "audit_log": AuditLog,
}


def _outbox_files(outbox: Path, digest_ids: set[int]) -> list[Path]:
    """The outbox ``.eml`` files of these digests (named ``<recipient…>_<digest id>.eml``)."""
    if not digest_ids or not outbox.is_dir():
        return []
    found = []
    for path in sorted(outbox.glob("*.eml")):
        number = path.stem.rpartition("_")[2]
        if number.isdigit() and int(number) in digest_ids:
            found.append(path)
    return found


async def _evidence_files(
    session: AsyncSession, data_dir: Path, where: ColumnElement[bool]
) -> list[Path]:
    paths = (await session.scalars(select(Attachment.path).where(where))).all()
    return [data_dir / p for p in paths if (data_dir / p).exists()]


async def preview(services: Services, now: datetime) -> Plan:
    """What :func:`retention_once` at ``now`` would remove (nothing is changed)."""
    async with services.sessions() as session:
        return await _plan(session, services, now)


async def _plan(session: AsyncSession, services: Services, now: datetime) -> Plan:
    plan = Plan(now=now, periods=await periods(session))
    data_dir = Path(services.settings.data_dir)
    plan.cutoffs = {
        kind: now - timedelta(days=duration_days(period)) for kind, period in plan.periods.items()
    }
    for kind in plan.periods:
        model = MODELS[kind]
        where = _old(kind, plan.cutoffs)
        plan.counts[kind] = (
            await session.execute(select(func.count()).select_from(model).where(where))
        ).scalar_one()
        if kind == "reflections":
            in_old = Attachment.reflection_id.in_(select(Reflection.id).where(where))
            plan.files += await _evidence_files(session, data_dir, in_old)
        elif kind == "evidence":
            plan.files += await _evidence_files(session, data_dir, where)
        elif kind == "digests":
            ids = set((await session.scalars(select(Digest.id).where(where))).all())
            plan.files += _outbox_files(Path(services.settings.outbox_dir), ids)
    plan.files = sorted(set(plan.files))
    return plan


async def _remove(session: AsyncSession, kind: str, cutoffs: dict[str, datetime]) -> None:
    where = _old(kind, cutoffs)
    if kind == "reflections":
        old = select(Reflection.id).where(where).scalar_subquery()
        await session.execute(delete(Coding).where(Coding.reflection_id.in_(old)))
        await session.execute(delete(Memo).where(Memo.reflection_id.in_(old)))
        await session.execute(delete(Attachment).where(Attachment.reflection_id.in_(old)))
        await session.execute(delete(Reflection).where(where))
    elif kind == "digests":
        old_digests = select(Digest.id).where(where).scalar_subquery()
        await session.execute(
            update(Reflection).where(Reflection.digest_id.in_(old_digests)).values(digest_id=None)
        )
        await session.execute(delete(Digest).where(where))
    else:
        await session.execute(delete(MODELS[kind]).where(where))


async def retention_once(services: Services, now: datetime) -> int:
    """Delete what is older than the study's retention periods; returns how much went (rows and
    files). Raises :class:`RetentionLeftovers` when anything older is still there afterwards."""
    async with services.sessions() as session, session.begin():
        plan = await _plan(session, services, now)
        if not plan.total and not plan.files:
            return 0
        # Files first: a file left behind is found by the check below and the next run.
        for path in plan.files:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
        for kind in KINDS:
            if kind in plan.cutoffs and plan.counts.get(kind):
                await _remove(session, kind, plan.cutoffs)
        left = await _plan(session, services, now)
        if left.total or left.files:
            raise RetentionLeftovers(
                "retention left data older than its period: "
                + ", ".join(f"{k} {v}" for k, v in left.counts.items() if v)
                + (f", {len(left.files)} files" if left.files else "")
            )
        session.add(
            AuditLog(
                at=now,
                actor="system",
                action="retention",
                target="study",
                details={
                    "removed": {k: v for k, v in plan.counts.items() if v},
                    "files": len(plan.files),
                    "periods": plan.periods,
                },
            )
        )
    log.info(
        "retention removed %d rows and %d files",
        plan.total,
        len(plan.files),
        extra={"action": "retention", "counts": plan.counts},
    )
    return plan.total + len(plan.files)


def plan_lines(plan: Plan) -> list[str]:
    """``carbot retention preview`` and ``carbot status``: one line per kind."""
    if not plan.periods:
        return ["Retention: none set in the study file (everything is kept until erased)."]
    lines = [f"Retention (the next run at {plan.now:%Y-%m-%d %H:%M} UTC removes):"]
    for kind in KINDS:
        if kind not in plan.periods:
            lines.append(f"  {kind}: kept until erased")
            continue
        count = plan.counts.get(kind, 0)
        lines.append(
            f"  {kind}: kept {plan.periods[kind]}; {count} older than {plan.cutoffs[kind]:%Y-%m-%d}"
        )
    if plan.files:
        lines.append(f"  files: {len(plan.files)} (evidence and outbox)")
    return lines
