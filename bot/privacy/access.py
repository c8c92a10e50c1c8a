"""Subject access: everything carbot holds about one person, in one zip they can read.

One JSON file per kind of record (private reflections included), their evidence files as they
sent them, and a README.txt saying what each file is. Only rows that are theirs are read: the
person row, and rows whose foreign key is theirs (or their channel identities' or reflections').
"""

from __future__ import annotations

import asyncio
import json
import os
import zipfile
from datetime import date, datetime, time
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.privacy.held import held_counts
from storage.files import FILE_MODE, private_dir
from storage.models import (
    Attachment,
    AuditLog,
    ChannelIdentity,
    Code,
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
)

FILES = {
    "person.json": "You as the study file describes you: name, email, working days and hours, "
    "time zone, leave, your default audience, your study code (the name researchers see), "
    "and whether you have withdrawn.",
    "projects.json": "The projects you belong to, and your role in each.",
    "chat_accounts.json": "The chat accounts linked to you (Slack, Telegram, web chat). For a "
    "web chat link only a fingerprint (hash) of the link is kept, never the link itself.",
    "consent.json": "Each time you agreed to take part: the consent version, a fingerprint of "
    "its text, the channel, when, and when you withdrew.",
    "questions.json": "Every question carbot planned or sent you, with its wording, when it "
    "was sent, and what became of it (answered, skipped, expired...).",
    "reflections.json": "Everything you answered or noted, private ones included: the words, "
    "rating or choice, who may see it (audience), when, the project, phase and research "
    "question, and the names of any files (in evidence/).",
    "codings.json": "Codes researchers applied to your answers, with the words each one covers.",
    "memos.json": "Researchers' notes on your answers.",
    "digests.json": "Summaries sent to you (the weekly digest or 'what we heard').",
    "sign_up_codes.json": "Sign-up codes made for you (only their dates; the codes are not kept).",
    "messages_received.json": "A record of each message carbot received from you (the "
    "platform's message id and what carbot did with it), kept so nothing is stored twice.",
    "conversation.json": "What carbot was waiting for from you (e.g. which project a note "
    "belongs to), if anything.",
    "audit.json": "Entries in carbot's audit log about you (e.g. a sign-up code being made).",
    "evidence/": "The photos, files and voice notes you sent, as you sent them.",
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _row(obj: Any, *names: str) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in names}


def _readme(person: Person, counts: dict[str, int], now: datetime) -> str:
    lines = [
        f"Everything carbot held about study participant {person.study_code} on "
        f"{now:%d %B %Y at %H:%M} UTC.",
        "",
        "In numbers: " + "; ".join(f"{what}: {n}" for what, n in counts.items()) + ".",
        "",
        "The files (JSON opens in any text editor or web browser; times are UTC):",
        "",
    ]
    for name, what in FILES.items():
        lines.append(f"{name}")
        lines.append(f"    {what}")
    lines += [
        "",
        "Digest emails to your project lead that quoted you are not in this export: they are",
        "the lead's mail. To have everything deleted, send 'stop' to carbot and choose",
        "'Delete everything I shared', or ask the research team.",
    ]
    return "\n".join(lines) + "\n"


async def collect(session: AsyncSession, person: Person) -> dict[str, Any]:
    """The JSON documents of the export, by file name, and the evidence to copy."""
    identities = list(
        await session.scalars(
            select(ChannelIdentity)
            .where(ChannelIdentity.person_id == person.id)
            .order_by(ChannelIdentity.id)
        )
    )
    identity_ids = [i.id for i in identities]
    reflections = list(
        await session.scalars(
            select(Reflection)
            .where(Reflection.person_id == person.id)
            .options(
                selectinload(Reflection.project),
                selectinload(Reflection.phase),
                selectinload(Reflection.research_question),
                selectinload(Reflection.attachments),
            )
            .order_by(Reflection.created_at, Reflection.id)
        )
    )
    reflection_ids = [r.id for r in reflections]
    texts = {r.id: r.text for r in reflections}
    evidence: list[tuple[str, Attachment]] = []
    reflection_rows = []
    for r in reflections:
        files = []
        for attachment in r.attachments:
            name = f"evidence/{r.id}-{attachment.id}-{PurePosixPath(attachment.filename).name}"
            evidence.append((name, attachment))
            files.append({"file": name, "kind": attachment.kind, "type": attachment.content_type})
        reflection_rows.append(
            {
                **_row(r, "id", "kind", "text", "scale_value", "choice", "audience", "channel"),
                "created_at": _plain(r.created_at),
                "edited_at": _plain(r.edited_at),
                "project": r.project.name if r.project else None,
                "phase": r.phase.name if r.phase else None,
                "research_question": r.research_question.text if r.research_question else None,
                "question_id": r.delivery_id,
                "files": files,
            }
        )
    memberships = await session.scalars(
        select(Membership)
        .where(Membership.person_id == person.id)
        .options(selectinload(Membership.project))
        .order_by(Membership.id)
    )
    deliveries = await session.scalars(
        select(Delivery)
        .where(Delivery.person_id == person.id)
        .options(selectinload(Delivery.project))
        .order_by(Delivery.slot)
    )
    codings = (
        await session.execute(
            select(Coding, Code.name)
            .join(Code, Code.id == Coding.code_id)
            .where(Coding.reflection_id.in_(reflection_ids))
            .order_by(Coding.id)
        )
    ).all()
    memos = await session.scalars(
        select(Memo).where(Memo.reflection_id.in_(reflection_ids)).order_by(Memo.id)
    )
    recipients = [f"person:{person.id}"] + ([person.email] if person.email else [])
    digests = await session.scalars(
        select(Digest)
        .where(or_(Digest.person_id == person.id, Digest.recipient.in_(recipients)))
        .order_by(Digest.id)
    )
    targets = [t for t in (person.key, person.email, person.study_code) if t]
    docs: dict[str, Any] = {
        "person.json": _row(
            person,
            "key",
            "study_code",
            "name",
            "email",
            "timezone",
            "working_days",
            "work_starts",
            "work_ends",
            "default_audience",
            "paused_until",
            "pauses",
            "withdrawn_at",
            "active",
            "created_at",
        ),
        "projects.json": [
            {"project": m.project.name, "role": m.role, "active": m.active} for m in memberships
        ],
        "chat_accounts.json": [
            _row(i, "channel", "workspace", "external_id", "status", "linked_at")
            for i in identities
        ],
        "consent.json": [
            _row(c, "version", "text_sha256", "channel", "given_at", "withdrawn_at")
            for c in await session.scalars(
                select(ConsentRecord)
                .where(ConsentRecord.person_id == person.id)
                .order_by(ConsentRecord.id)
            )
        ],
        "questions.json": [
            {
                **_row(d, "id", "prompt_text", "prompt_kind", "prompt_options", "status", "slot"),
                **_row(d, "sent_at", "reminded_at", "answered_at", "expired_at", "skipped_at"),
                "project": d.project.name,
            }
            for d in deliveries
        ],
        "reflections.json": reflection_rows,
        "codings.json": [
            {
                "reflection_id": coding.reflection_id,
                "code": name,
                "words": texts[coding.reflection_id][coding.start : coding.end]
                if coding.start is not None and coding.end is not None
                else "(the whole answer)",
                "created_at": _plain(coding.created_at),
            }
            for coding, name in codings
        ],
        "memos.json": [_row(m, "reflection_id", "text", "created_at") for m in memos],
        "digests.json": [_row(d, "kind", "scope", "period", "status", "sent_at") for d in digests],
        "sign_up_codes.json": [
            _row(c, "channel", "created_at", "expires_at", "used_at")
            for c in await session.scalars(
                select(LinkCode).where(LinkCode.person_id == person.id).order_by(LinkCode.id)
            )
        ],
        "messages_received.json": [
            _row(e, "channel", "event_id", "outcome", "received_at")
            for e in await session.scalars(
                select(InboundEvent)
                .where(InboundEvent.identity_id.in_(identity_ids))
                .order_by(InboundEvent.id)
            )
        ],
        "conversation.json": [
            _row(s, "state", "data", "updated_at")
            for s in await session.scalars(
                select(ConversationState).where(ConversationState.identity_id.in_(identity_ids))
            )
        ],
        "audit.json": [
            _row(a, "at", "actor", "action", "target")
            for a in await session.scalars(
                select(AuditLog).where(AuditLog.target.in_(targets)).order_by(AuditLog.id)
            )
        ],
    }
    return {"docs": docs, "evidence": evidence}


async def write_export(
    session: AsyncSession, person: Person, data_dir: Path, out: Path, now: datetime
) -> dict[str, int]:
    """Write ``person``'s subject-access zip to ``out`` (mode 0600); what it holds, counted."""
    found = await collect(session, person)
    counts = await held_counts(session, person)
    readme = _readme(person, counts, now)
    await asyncio.to_thread(_write_zip, Path(data_dir), Path(out), readme, found)
    return counts


def _write_zip(data_dir: Path, out: Path, readme: str, found: dict[str, Any]) -> None:
    root = data_dir.resolve()
    private_dir(out.parent)
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
        archive.writestr("README.txt", readme)
        for name, doc in found["docs"].items():
            archive.writestr(name, json.dumps(doc, ensure_ascii=False, indent=2, default=str))
        for name, attachment in found["evidence"]:
            path = (root / attachment.path).resolve()
            if path.is_relative_to(root) and path.is_file():
                archive.write(path, name)
