"""Forgetting one reflection: after `undo`, or when a participant asks an admin to delete a single
answer after the 24-hour `undo` window.

The reflection goes with its evidence files, codings and memos on it, and its search-index row.
Digest copies kept in the outbox that quote its words (or embed one of its photos) keep their
headers and lose their body, as in a whole-person erasure. An admin's erasure leaves one audit
line (reflection id, the author's study code, who, why, counts) with none of the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.errors import UsageError
from bot.core.evidence import unlink_files, unused_paths
from bot.privacy import outbox
from bot.privacy.subject import normalise
from bot.services import Services
from storage.models import Attachment, AuditLog, Coding, Memo, Person, Reflection


@dataclass(frozen=True)
class Forgotten:
    reflection_id: int
    study_code: str
    evidence_files: int
    codings: int
    memos: int
    outbox_cut: int


async def forget_reflection(
    services: Services,
    reflection_id: int,
    *,
    actor: str,
    reason: str,
    now: datetime,
    dry_run: bool = False,
) -> Forgotten:
    """Erase one reflection (an admin action, on the participant's request)."""
    reason = " ".join(reason.split())
    if len(reason) < 3:
        raise UsageError("Say why this reflection is erased (for the audit log).")
    async with services.sessions() as session, session.begin():
        reflection = await session.get(Reflection, reflection_id, with_for_update=True)
        if reflection is None:
            raise UsageError(f"There is no reflection {reflection_id}.")
        person = await session.get(Person, reflection.person_id)
        if person is not None and normalise(person.name) in normalise(reason):
            raise UsageError("The reason must not name the person; it is kept in the audit log.")
        files = list(
            await session.scalars(
                select(Attachment).where(Attachment.reflection_id == reflection.id)
            )
        )
        counts = await _counts(session, reflection.id)
        texts = [reflection.text] if reflection.text else []
        evidence = [(a.path, a.sha256) for a in files]
        study_code = person.study_code if person else ""
        if dry_run:
            return Forgotten(reflection.id, study_code, len(files), *counts, 0)
        await session.execute(delete(Coding).where(Coding.reflection_id == reflection.id))
        await session.execute(delete(Memo).where(Memo.reflection_id == reflection.id))
        await session.delete(reflection)
        await session.flush()
        unused = await unused_paths(session, files)
        session.add(
            AuditLog(
                actor=actor,
                action="reflection.erase",
                target=study_code,
                details={
                    "reflection": reflection_id,
                    "reason": reason[:500],
                    "evidence_files": len(files),
                    "codings": counts[0],
                    "memos": counts[1],
                },
            )
        )
    await unlink_files(services.settings.data_dir, unused)
    cut = outbox.cut_quotes(Path(services.settings.outbox_dir), texts, evidence, now)
    return Forgotten(reflection_id, study_code, len(files), *counts, cut)


async def _counts(session: AsyncSession, reflection_id: int) -> tuple[int, int]:
    codings = list(
        await session.scalars(select(Coding.id).where(Coding.reflection_id == reflection_id))
    )
    memos = list(await session.scalars(select(Memo.id).where(Memo.reflection_id == reflection_id)))
    return len(codings), len(memos)
