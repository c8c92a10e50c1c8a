"""One participant with everything a person can leave in carbot, and a colleague beside them.

Ailsa (the person to erase) has text, scale, private and evidence answers, a coding and a memo
on her words, a researcher's code memo quoting her, a web chat link, a sign-up code, inbound
events, a conversation state, a "what we heard" digest and a lead's digest in the outbox that
quotes her. Ruairidh, in the same project, has an answer with a coding and must be untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from adapters.base import InboundAttachment
from bot.channels.webchat import issue_webchat_link
from bot.core.evidence import store_files
from bot.core.onboarding import issue_link_code
from bot.engine.digest_jobs import send_due_digests
from bot.review.throttle import record_failure
from bot.services import Services
from storage.db import transaction
from storage.fts import ensure_fulltext
from storage.models import (
    AuditLog,
    ChannelIdentity,
    Code,
    Coding,
    ConsentRecord,
    ConversationState,
    Digest,
    InboundEvent,
    Memo,
    Person,
    ReviewSession,
    User,
)
from tests.digests.factory import MONDAY, add_delivery, add_reflection, add_study, add_team, at
from tests.digests.helpers import WEEKLY_TIME

AILSA_WORDS = "The drop-in felt calmer once the kettle was on before nine"
AILSA_PRIVATE = "Private worry about the rota my manager keeps changing"
AILSA_CAPTION = "Photo of the new signage by the front desk"
RUAIRIDH_WORDS = "Families asked twice about the holiday club dates"
PHOTO = b"\xff\xd8\xff\xe0 ailsa's photo of the signage \xff\xd9"


@dataclass
class Privacy:
    services: Services
    ailsa_key: str
    ailsa_id: int
    ailsa_code: str
    ruairidh_id: int
    webchat_token: str
    photo_path: Path

    @property
    def data_dir(self) -> Path:
        return Path(self.services.settings.data_dir)

    @property
    def outbox_dir(self) -> Path:
        return Path(self.services.settings.outbox_dir)


async def build(services: Services) -> Privacy:
    now = WEEKLY_TIME - timedelta(days=3)
    async with services.engine.begin() as connection:
        await connection.run_sync(ensure_fulltext)
    async with transaction(services.sessions) as session:
        await add_study(session)
        team = await add_team(session, members=3)
        ailsa, ruairidh = team.members[0], team.members[1]
        ailsa.name, ailsa.email = "Ailsa Fraser", "ailsa.fraser@example.org"
        ruairidh.name, ruairidh.email = "Ruairidh Munro", "ruairidh@example.org"
        researcher = User(email="researcher@example.org", password_hash="x")
        session.add(researcher)
        await session.flush()
        code = Code(
            guid="c0de0000-0000-0000-0000-000000000001", name="Calm", created_by=researcher.id
        )
        session.add(code)
        await session.flush()

        text = await add_reflection(session, team, ailsa, AILSA_WORDS, audience="team")
        scale_delivery = await add_delivery(
            session, team, ailsa, at(MONDAY + timedelta(days=1), 10), prompt_kind="scale"
        )
        await add_reflection(
            session, team, ailsa, kind="scale", scale_value=4, delivery=scale_delivery
        )
        await add_reflection(session, team, ailsa, AILSA_PRIVATE, audience="private")
        evidence = await add_reflection(
            session, team, ailsa, AILSA_CAPTION, kind="evidence", audience="researchers"
        )
        [attachment] = await store_files(
            Path(services.settings.data_dir),
            (InboundAttachment("photo", "signage.jpg", "image/jpeg", PHOTO),),
            at(MONDAY + timedelta(days=1)),
        )
        attachment.reflection_id = evidence.id
        session.add(attachment)
        other = await add_reflection(session, team, ruairidh, RUAIRIDH_WORDS, audience="team")
        session.add_all(
            [
                Coding(guid="c0d1-a", code_id=code.id, reflection_id=text.id, start=4, end=11),
                Coding(guid="c0d1-r", code_id=code.id, reflection_id=other.id),
                Memo(guid="memo-a", reflection_id=text.id, text="Ties in with the rota theme"),
                Memo(guid="memo-code", code_id=code.id, text=f"As one said: '{AILSA_WORDS}'"),
                Memo(guid="memo-r", reflection_id=other.id, text="Holiday club again"),
            ]
        )
        [identity] = await session.scalars(
            select(ChannelIdentity).where(ChannelIdentity.person_id == ailsa.id)
        )
        session.add(
            ConsentRecord(person_id=ailsa.id, version="1", text_sha256="0" * 64, channel="webchat")
        )
        session.add(
            InboundEvent(channel="webchat", event_id="evt-ailsa-1", identity_id=identity.id)
        )
        session.add(
            ConversationState(identity_id=identity.id, state="follow_up", data={"reflection": 1})
        )
        session.add(
            Digest(
                kind="what_we_heard",
                recipient=f"person:{ailsa.id}",
                person_id=ailsa.id,
                scope=f"project:{team.project.slug}",
                period="2027-W09",
                status="sent",
            )
        )
        account = User(email=ailsa.email, person_id=ailsa.id, password_hash="x")
        session.add(account)
        await session.flush()
        session.add(
            ReviewSession(
                id="5e55" * 16,
                user_id=account.id,
                is_admin=False,
                expires_at=now + timedelta(days=1),
            )
        )
        session.add(AuditLog(actor=f"user:{account.id}", action="sign_in", target=account.email))
        await record_failure(session, ailsa.email, "203.0.113.7", now)
        token = await issue_webchat_link(session, ailsa, now=now)
        await issue_link_code(session, ailsa, channel=None, ttl=timedelta(days=7), now=now)
        session.add(AuditLog(actor="cli", action="people.link_code", target=ailsa.key))
        ids = ailsa.key, ailsa.id, ailsa.study_code, ruairidh.id
    assert await send_due_digests(services, WEEKLY_TIME) == 1
    return Privacy(
        services,
        *ids,
        webchat_token=token,
        photo_path=Path(services.settings.data_dir) / attachment.path,
    )


async def person_exists(services: Services, person_id: int) -> bool:
    async with services.sessions() as session:
        return await session.get(Person, person_id) is not None


NOW = datetime(2027, 3, 16, 9, 0, tzinfo=UTC)
