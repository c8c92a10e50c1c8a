"""Sign-up: one-time link codes, linking a channel identity to a person, consent, audience."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import InboundMessage, OutboundText
from bot.core import texts
from bot.core.people import study_options
from storage.models import CHANNELS, ChannelIdentity, ConsentRecord, LinkCode, Person

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
    identity = await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == message.channel,
            ChannelIdentity.workspace == (message.workspace or ""),
            ChannelIdentity.external_id == message.external_id,
        )
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
