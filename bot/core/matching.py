"""Which delivery a message answers, and turning a message into a reflection's fields.

The rules, in order: an explicit button or modal (``delivery_id``) → that delivery, only if it
is the sender's and still open; a reply to a prompt or reminder message (``reply_to``) → that
delivery; otherwise the person's newest open delivery still inside its answer window; otherwise
the answer they gave in the last few minutes (a follow-up sentence or photo); otherwise an
ad-hoc note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import InboundMessage
from adapters.numbers import json_int
from bot.engine.deliveries import move
from prompts.choices import SCALE_POINTS, answer_label, prompt_options
from storage.models import OPEN_STATUSES, Cycle, Delivery, Person, Phase, Project

FOLLOW_UP_WINDOW = timedelta(minutes=30)

How = Literal["button", "reply", "open", "follow_up", "ad_hoc", "refused"]


@dataclass
class Match:
    how: How
    delivery: Delivery | None = None


async def match_delivery(
    session: AsyncSession,
    person: Person,
    message: InboundMessage,
    now: datetime,
    follow_up_delivery_id: int | None = None,
) -> Match:
    if message.delivery_id is not None:
        if json_int(message.delivery_id) is None:
            return Match("refused")  # no delivery has that id; do not ask the database
        delivery = await session.get(Delivery, message.delivery_id)
        if delivery is None or delivery.person_id != person.id:
            return Match("refused")
        if delivery.status not in OPEN_STATUSES:
            return Match("refused", delivery)
        return Match("button", delivery)
    if message.reply_to:
        delivery = await session.scalar(
            select(Delivery)
            .where(
                Delivery.person_id == person.id,
                or_(
                    Delivery.message_ref == message.reply_to,
                    Delivery.reminder_ref == message.reply_to,
                ),
            )
            .order_by(Delivery.id.desc())
            .limit(1)
        )
        if delivery is not None and delivery.status in OPEN_STATUSES:
            return Match("reply", delivery)
        if delivery is not None and delivery.status == "answered":
            return Match("follow_up", delivery)
    delivery = await newest_open(session, person, now)
    if delivery is not None:
        return Match("open", delivery)
    if follow_up_delivery_id is not None:
        delivery = await session.get(Delivery, follow_up_delivery_id)
        if delivery is not None and delivery.person_id == person.id:
            return Match("follow_up", delivery)
    return Match("ad_hoc")


async def newest_open(session: AsyncSession, person: Person, now: datetime) -> Delivery | None:
    """The person's most recently sent delivery that is open and inside its answer window."""
    return await session.scalar(
        select(Delivery)
        .where(
            Delivery.person_id == person.id,
            Delivery.status.in_(OPEN_STATUSES),
            or_(Delivery.expires_at.is_(None), Delivery.expires_at > now),
        )
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
        .limit(1)
    )


async def mark_answered(session: AsyncSession, delivery: Delivery, now: datetime) -> bool:
    """open → answered, as a conditional update that must change exactly one row."""
    if not await move(session, delivery, "answered", "answered", now):
        return False
    await session.refresh(delivery)
    return True


@dataclass
class AnswerFields:
    kind: str
    text: str = ""
    scale_value: int | None = None
    choice: str | None = None
    label: str = ""


def answer_fields(message: InboundMessage, delivery: Delivery | None) -> AnswerFields | None:
    """What the message says, as a reflection's kind and value; None when it says nothing."""
    text = (message.text or "").strip()
    picked = (message.choice or "").strip()
    kind = delivery.prompt_kind if delivery is not None else "text"
    options = prompt_options(delivery.prompt_options) if delivery is not None else ()
    if kind == "scale":
        value = picked or (text if text in SCALE_POINTS else "")
        if value in SCALE_POINTS:
            shown = answer_label("scale", options, scale_value=int(value))
            return AnswerFields("scale", scale_value=int(value), label=shown)
    if kind == "choice":
        wanted = (picked or text).casefold()
        for option in options:
            if wanted in (option.value.casefold(), option.label.casefold()):
                return AnswerFields("choice", choice=option.value, label=option.label)
    if picked and not text:
        text = picked  # a button from an older prompt: keep what was tapped, as text
    if text:
        return AnswerFields("text", text=text, label=_short(text))
    if message.attachments:
        return AnswerFields("evidence", label=f"{len(message.attachments)} file(s)")
    return None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def current_phase(
    session: AsyncSession, project: Project, today: date
) -> tuple[Cycle | None, Phase | None]:
    """The project's cycle and phase that include ``today``, if any."""
    row = (
        await session.execute(
            select(Cycle, Phase)
            .join(Phase, Phase.cycle_id == Cycle.id)
            .where(
                Cycle.project_id == project.id,
                Phase.starts_on <= today,
                Phase.ends_on >= today,
            )
            .order_by(Cycle.position, Phase.position)
            .limit(1)
        )
    ).first()
    if row is not None:
        return row[0], row[1]
    cycle = await session.scalar(
        select(Cycle).where(
            Cycle.project_id == project.id, Cycle.starts_on <= today, Cycle.ends_on >= today
        )
    )
    return cycle, None
