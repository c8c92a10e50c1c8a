"""The app side of the web chat: personal links, and the page history rebuilt from the database.

``webchat_channel(services)`` builds the :class:`adapters.webchat.WebChatChannel` with a history
function that reads the database (the adapter itself never does); ``carbot run`` starts it like
any other channel, and ``create_app`` mounts its page at ``/chat``.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

import click
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from adapters.base import Choice
from adapters.webchat import NAME, Bubble, ChatHistory, WebChatChannel, identity_key, new_token
from adapters.webchat.routes import FORM_OVERHEAD
from bot.channels import ChannelPlugin
from bot.core import texts
from bot.core.answers import where
from bot.core.limits import ANSWER_LIMIT
from bot.core.onboarding import consent_terms
from bot.core.people import active_consent
from bot.services import Services
from bot.settings import Settings
from prompts.choices import prompt_options, reflection_label
from storage.models import (
    OPEN_STATUSES,
    ChannelIdentity,
    Delivery,
    Digest,
    Person,
    Reflection,
)
from storage.queries import channel_identity

log = logging.getLogger(__name__)

HISTORY_DAYS = 14
HISTORY_LIMIT = 100
CLOSED_LABELS = {"expired": "This question has closed.", "skipped": "Skipped."}


def chat_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}/chat/{token}"


async def issue_webchat_link(session: AsyncSession, person: Person, *, now: datetime) -> str:
    """A new personal link token for ``person``; their previous link stops working."""
    await revoke_webchat(session, person, now=now, reason="replaced by a new link")
    token = new_token()
    session.add(
        ChannelIdentity(
            person_id=person.id,
            channel="webchat",
            workspace="",
            external_id=identity_key(token),
            status="active",
            linked_at=now,
        )
    )
    await session.flush()
    log.info("issued a web chat link for person %s", person.id, extra={"action": "webchat.link"})
    return token


async def revoke_webchat(
    session: AsyncSession, person: Person, *, now: datetime, reason: str = "revoked by an admin"
) -> int:
    """Switch off every web chat link of ``person``; returns how many were live."""
    result = await session.execute(
        update(ChannelIdentity)
        .where(
            ChannelIdentity.person_id == person.id,
            ChannelIdentity.channel == "webchat",
            ChannelIdentity.status != "revoked",
        )
        .values(status="revoked", status_reason=reason, updated_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _answer_text(reflection: Reflection) -> str:
    shown = reflection_label(reflection, _options_of(reflection.delivery))
    return shown or ("(file)" if reflection.attachments else "")


async def chat_history(
    session: AsyncSession, external_id: str, now: datetime
) -> ChatHistory | None:
    """The page for the web chat identity ``external_id``; None if unknown or revoked."""
    identity = await channel_identity(session, "webchat", external_id)
    if identity is None:
        return None
    person = await session.get(Person, identity.person_id)
    if person is None or not person.active:
        return None
    since = now - timedelta(days=HISTORY_DAYS)
    deliveries = await session.scalars(
        select(Delivery)
        .options(selectinload(Delivery.project), selectinload(Delivery.phase))
        .where(
            Delivery.person_id == person.id,
            Delivery.sent_at.is_not(None),
            or_(Delivery.sent_at >= since, Delivery.status.in_(OPEN_STATUSES)),
        )
        .order_by(Delivery.sent_at.desc())
        .limit(HISTORY_LIMIT)
    )
    found = await session.scalars(
        select(Reflection)
        .options(selectinload(Reflection.attachments), selectinload(Reflection.delivery))
        .where(Reflection.person_id == person.id, Reflection.created_at >= since)
        .order_by(Reflection.created_at.desc())
        .limit(HISTORY_LIMIT)
    )
    # Each answer sits under its own question, even when another project's prompt came between
    # them: a bubble sorts by (when its thread began, which thread, its place in the thread).
    reflections = list(found)
    first_answer: dict[int, Reflection] = {}
    for reflection in sorted(reflections, key=lambda r: (r.created_at, r.id)):
        if reflection.delivery_id is not None:
            first_answer.setdefault(reflection.delivery_id, reflection)
    stamped: list[tuple[tuple[datetime, str, int, datetime], Bubble]] = []
    threads: dict[int, datetime] = {}
    for delivery in deliveries:
        sent = delivery.sent_at or now
        threads[delivery.id] = sent
        is_open = delivery.status in OPEN_STATUSES
        stamped.append(
            (
                (sent, f"d{delivery.id}", 0, sent),
                Bubble(
                    id=f"d{delivery.id}",
                    sender="bot",
                    text=delivery.prompt_text,
                    at=delivery.sent_at,
                    context=where(delivery.project, delivery.phase),
                    choices=_choices(delivery) if is_open else (),
                    delivery_id=delivery.id,
                    answered=None if is_open else _closed_label(delivery, first_answer),
                ),
            )
        )
    for reflection in reflections:
        bubble = Bubble(
            id=f"a{reflection.id}",
            sender="me",
            text=_answer_text(reflection),
            at=reflection.created_at,
            files=tuple(a.filename for a in reflection.attachments),
        )
        began = threads.get(reflection.delivery_id or 0)
        if began is not None:
            key = (began, f"d{reflection.delivery_id}", 1, reflection.created_at)
        else:
            key = (reflection.created_at, f"a{reflection.id}", 1, reflection.created_at)
        stamped.append((key, bubble))
    stamped.extend(await _heard_bubbles(session, person, since))
    bubbles = [b for _key, b in sorted(stamped, key=lambda s: s[0])]
    if await active_consent(session, person) is None:
        _version, consent_text = await consent_terms(session)
        bubbles.append(
            Bubble(
                id="consent",
                sender="bot",
                text=f"{texts.NEEDS_CONSENT}\n\n{consent_text}",
                choices=texts.consent_choices(),
            )
        )
    return ChatHistory(name=person.name.split()[0] if person.name else "there", bubbles=bubbles)


def _closed_label(delivery: Delivery, first_answer: dict[int, Reflection]) -> str:
    """What a closed question says under it: the rating or option chosen, or how it closed."""
    if delivery.status in CLOSED_LABELS:
        return CLOSED_LABELS[delivery.status]
    answer = first_answer.get(delivery.id)
    if answer is not None and answer.kind in ("scale", "choice"):
        shown = reflection_label(answer, delivery.prompt_options)
        if shown:
            return shown
    return "Answered."


async def _heard_bubbles(
    session: AsyncSession, person: Person, since: datetime
) -> list[tuple[tuple[datetime, str, int, datetime], Bubble]]:
    """ "What we heard" messages sent to the person, with their buttons until they answer."""
    digests = await session.scalars(
        select(Digest).where(
            Digest.kind == "what_we_heard",
            Digest.person_id == person.id,
            Digest.status == "sent",
            Digest.sent_at >= since,
        )
    )
    found = []
    for digest in digests:
        answered = await session.scalar(
            select(Reflection.id).where(Reflection.digest_id == digest.id).limit(1)
        )
        text = str((digest.summary or {}).get("text") or texts.HEARD_FALLBACK)
        bubble = Bubble(
            id=f"h{digest.id}",
            sender="bot",
            text=text,
            at=digest.sent_at,
            choices=() if answered else texts.heard_choices(digest.id),
            answered="Thanks for your answer." if answered else None,
        )
        at = digest.sent_at or since
        found.append(((at, f"h{digest.id}", 0, at), bubble))
    return found


def _choices(delivery: Delivery) -> tuple[Choice, ...]:
    return tuple(Choice(o.value, o.label) for o in prompt_options(delivery.prompt_options))


def _options_of(delivery: Delivery | None) -> object:
    return delivery.prompt_options if delivery is not None else None


def webchat_channel(services: Services) -> WebChatChannel:
    """The web chat channel, reading page history from ``services``' database."""
    clock = services.clock

    async def history(external_id: str) -> ChatHistory | None:
        async with services.sessions() as session:
            return await chat_history(session, external_id, clock.now())

    return WebChatChannel(
        history=history,
        secret_key=services.secret_key(),
        max_upload_bytes=services.settings.max_upload_bytes,
        answer_limit=ANSWER_LIMIT,
    )


def _commands() -> click.Command:
    from bot.channels.webchat_cli import webchat

    return webchat


SEND_ROUTE = re.compile(r"^/chat/[^/]+/send$")


def body_limits(settings: Settings) -> list[tuple[re.Pattern[str], int]]:
    """The send route takes evidence up to ``max_upload_bytes``, plus room for the form."""
    return [(SEND_ROUTE, settings.max_upload_bytes + FORM_OVERHEAD)]


PLUGIN = ChannelPlugin(
    name=NAME, build=webchat_channel, body_limits=body_limits, commands=lambda: (_commands(),)
)
