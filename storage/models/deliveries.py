"""What is asked and answered: deliveries, reflections and their attachments, inbound events,
conversation state, and digests."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import AUDIENCES, DELIVERY_STATUSES, Base, Timestamped, one_of, utcnow

if TYPE_CHECKING:
    from storage.models.people import Person
    from storage.models.study import Cycle, Phase, Project, ResearchQuestion


class Delivery(Timestamped, Base):
    """One prompt to one person at one time: the unit of scheduling, compliance, idempotency."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("person_id", "project_id", "slot"),
        CheckConstraint(one_of("status", DELIVERY_STATUSES), name="status"),
        Index("ix_deliveries_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    slot: Mapped[datetime] = mapped_column()  # the planned time, the idempotency key
    due_at: Mapped[datetime] = mapped_column()  # when to send (moves with snooze and backoff)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id"))
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("phases.id"))
    research_question_id: Mapped[int | None] = mapped_column(ForeignKey("research_questions.id"))
    prompt_key: Mapped[str] = mapped_column(String(120))
    prompt_kind: Mapped[str] = mapped_column(String(20))
    prompt_text: Mapped[str] = mapped_column(Text)  # as sent, with any carry-forward quote
    prompt_options: Mapped[list[Any]] = mapped_column(default=list)  # [{"value","label"}]
    status: Mapped[str] = mapped_column(String(20), default="planned")
    # why and when it last changed state (bot.engine.deliveries.TRANSITIONS names the reasons)
    status_reason: Mapped[str | None] = mapped_column(String(40))
    status_at: Mapped[datetime | None] = mapped_column()
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("channel_identities.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column()
    message_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    reminder_ref: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column()
    remind_at: Mapped[datetime | None] = mapped_column()
    reminded_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()
    expired_at: Mapped[datetime | None] = mapped_column()
    skipped_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()
    failed_at: Mapped[datetime | None] = mapped_column()
    snoozed: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)

    person: Mapped[Person] = relationship()
    project: Mapped[Project] = relationship()
    phase: Mapped[Phase | None] = relationship()
    cycle: Mapped[Cycle | None] = relationship()
    research_question: Mapped[ResearchQuestion | None] = relationship()


class Reflection(Timestamped, Base):
    """What a person said, with its context and who may see it."""

    __tablename__ = "reflections"
    __table_args__ = (
        CheckConstraint(one_of("audience", AUDIENCES), name="audience"),
        CheckConstraint(
            one_of("kind", ("text", "scale", "choice", "evidence", "note", "feedback")), name="kind"
        ),
        Index("ix_reflections_project_id_created_at", "project_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))  # None: asking which
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"), index=True)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("digests.id"))  # "Not quite" replies
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id"))
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("phases.id"))
    research_question_id: Mapped[int | None] = mapped_column(ForeignKey("research_questions.id"))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    scale_value: Mapped[int | None] = mapped_column(Integer)
    choice: Mapped[str | None] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("channel_identities.id"))
    edited_at: Mapped[datetime | None] = mapped_column()

    person: Mapped[Person] = relationship()
    project: Mapped[Project | None] = relationship()
    delivery: Mapped[Delivery | None] = relationship()
    phase: Mapped[Phase | None] = relationship()
    cycle: Mapped[Cycle | None] = relationship()
    research_question: Mapped[ResearchQuestion | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="reflection", cascade="all, delete-orphan"
    )


class Attachment(Base):
    """Evidence: a photo, file or voice note, stored under the data directory."""

    __tablename__ = "attachments"
    __table_args__ = (CheckConstraint(one_of("kind", ("photo", "file", "voice")), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reflection_id: Mapped[int] = mapped_column(ForeignKey("reflections.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))  # relative to the data directory
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reflection: Mapped[Reflection] = relationship(back_populates="attachments")


class InboundEvent(Base):
    """Every platform event seen, so that a redelivered one is handled once."""

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("channel", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("channel_identities.id"))
    outcome: Mapped[str] = mapped_column(String(40), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationState(Base):
    """What a person's next message means when it is not an answer (e.g. 'which project?')."""

    __tablename__ = "conversation_states"

    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# ── digests ─────────────────────────────────────────────────────────────────────────────────


class Digest(Base):
    """One digest for one recipient, scope and period; sent once."""

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("kind", "recipient", "scope", "period"),
        CheckConstraint(
            one_of("status", ("pending", "sending", "sent", "failed", "skipped")), name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # lead_weekly, what_we_heard, cross_partnership
    recipient: Mapped[str] = mapped_column(String(320))  # email address or "person:<id>"
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    scope: Mapped[str] = mapped_column(String(120))  # e.g. "project:fife-family-hub"
    period: Mapped[str] = mapped_column(String(20))  # ISO week, e.g. "2027-W10"
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column()
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)  # skipped: {"skipped": why}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


# ── qualitative analysis ────────────────────────────────────────────────────────────────────
