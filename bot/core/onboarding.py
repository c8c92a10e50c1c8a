"""Sign-up: one-time link codes, linking a channel identity to a person, consent, audience."""

from __future__ import annotations

import difflib
import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import InboundMessage, OutboundText
from bot.core import texts
from storage.models import CHANNELS, ChannelIdentity, ConsentRecord, LinkCode, Person
from storage.queries import channel_identity, study_options

log = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: easy to read out and type
CODE_LENGTH = 12


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


async def issue_link_code(
    session: AsyncSession,
    person: Person,
    *,
    channel: str | None,
    ttl: timedelta,
    now: datetime,
) -> str:
    """A new one-time sign-up code for ``person`` (only its hash is stored)."""
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    session.add(
        LinkCode(
            person_id=person.id,
            code_hash=hash_code(code),
            channel=channel,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.flush()
    log.info("issued a link code for person %s", person.id, extra={"action": "link_code"})
    return code


async def redeem_link_code(
    session: AsyncSession, message: InboundMessage, code: str, now: datetime
) -> ChannelIdentity | None:
    """Use ``code`` once to link the sender to its person; None when the code is not valid."""
    link = await session.scalar(
        select(LinkCode).where(
            LinkCode.code_hash == hash_code(code),
            LinkCode.used_at.is_(None),
            LinkCode.expires_at > now,
        )
    )
    if link is None or (link.channel is not None and link.channel != message.channel):
        return None
    claimed = await session.execute(
        update(LinkCode)
        .where(LinkCode.id == link.id, LinkCode.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    person = await session.get(Person, link.person_id)
    if person is None or not person.active:
        return None
    identity = await channel_identity(
        session, message.channel, message.external_id, message.workspace, revoked_too=True
    )
    if identity is None:
        identity = ChannelIdentity(
            person_id=person.id,
            channel=message.channel,
            workspace=message.workspace or "",
            external_id=message.external_id,
        )
        session.add(identity)
    identity.person_id = person.id
    identity.status = "active"
    identity.status_reason = None
    identity.linked_at = now
    await session.flush()
    link.used_by_identity_id = identity.id
    log.info(
        "linked %s identity %s to person %s",
        message.channel,
        identity.id,
        person.id,
        extra={"action": "link"},
    )
    return identity


async def consent_terms(session: AsyncSession) -> tuple[str, str]:
    """The study's consent (version, text), or carbot's default wording."""
    consent = (await study_options(session)).get("consent")
    if isinstance(consent, dict) and consent.get("text"):
        return str(consent.get("version") or "1"), str(consent["text"])
    return texts.DEFAULT_CONSENT_VERSION, texts.DEFAULT_CONSENT_TEXT


async def current_consent(session: AsyncSession, person: Person) -> ConsentRecord | None:
    """The person's consent to the study's current version, if they gave it (and kept it).

    Without a study's consent (no study loaded) any consent they keep counts."""
    consent = (await study_options(session)).get("consent")
    same_version = (
        [ConsentRecord.version == str(consent.get("version") or "1")]
        if isinstance(consent, dict) and consent.get("text")
        else []
    )
    return await session.scalar(
        select(ConsentRecord)
        .where(
            ConsentRecord.person_id == person.id,
            ConsentRecord.withdrawn_at.is_(None),
            *same_version,
        )
        .order_by(ConsentRecord.given_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )


async def outdated_consent(session: AsyncSession, person: Person) -> ConsentRecord | None:
    """The person's newest active consent to an earlier version, when they have not agreed to
    the current one: they must be asked again before anything is kept or sent."""
    if await current_consent(session, person) is not None:
        return None
    return await session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.person_id == person.id, ConsentRecord.withdrawn_at.is_(None))
        .order_by(ConsentRecord.given_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )


def what_changed(old_text: str, new_text: str) -> list[str]:
    """The lines added to and taken out of the consent text, as "+ …" and "− …"."""
    old_lines = [line.strip() for line in old_text.splitlines() if line.strip()]
    new_lines = [line.strip() for line in new_text.splitlines() if line.strip()]
    found = []
    for line in difflib.ndiff(old_lines, new_lines):
        if line.startswith("+ "):
            found.append(f"+ {line[2:]}")
        elif line.startswith("- "):
            found.append(f"− {line[2:]}")
    return found


async def reconsent_request(session: AsyncSession, outdated: ConsentRecord) -> OutboundText:
    """Asking again: the versions, what changed (the study file's words and the changed lines),
    the whole new text, and the two buttons."""
    version, text = await consent_terms(session)
    options = await study_options(session)
    consent = options.get("consent")
    changes = str(consent.get("changes") or "") if isinstance(consent, dict) else ""
    known = options.get("consent_texts")
    old_text = str(known.get(outdated.version) or "") if isinstance(known, dict) else ""
    parts = [texts.CONSENT_CHANGED.format(old=outdated.version, new=version)]
    lines = what_changed(old_text, text) if old_text else []
    if changes or lines:
        parts.append(
            "\n".join([texts.CONSENT_WHAT_CHANGED, *([changes] if changes else []), *lines])
        )
    parts.append(f"{texts.CONSENT_NEW_TEXT}\n{text}")
    return OutboundText("\n\n".join(parts), texts.consent_choices())


async def consent_request(
    session: AsyncSession, lead_in: str = texts.NEEDS_CONSENT
) -> OutboundText:
    _version, text = await consent_terms(session)
    return OutboundText(f"{lead_in}\n\n{text}", texts.consent_choices())


async def record_consent(
    session: AsyncSession, person: Person, *, channel: str, now: datetime
) -> ConsentRecord:
    """Record that ``person`` agreed to the current consent text (this also ends a withdrawal)."""
    version, text = await consent_terms(session)
    record = ConsentRecord(
        person_id=person.id,
        version=version,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        channel=channel,
        given_at=now,
    )
    session.add(record)
    person.withdrawn_at = None
    await session.flush()
    log.info("person %s gave consent %s", person.id, version, extra={"action": "consent"})
    return record


async def withdraw_consent(session: AsyncSession, person: Person, now: datetime) -> None:
    await session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.person_id == person.id, ConsentRecord.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
    )
    person.withdrawn_at = now
    log.info("person %s withdrew", person.id, extra={"action": "withdraw"})
