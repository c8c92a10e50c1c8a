"""carbot's data model: the domain words of DESIGN.md as SQLAlchemy 2 tables.

Times are stored in UTC (``UTCDateTime`` refuses naive datetimes and gives back aware ones on
every backend). Constraints carry the idempotency rules: one delivery per (person, project, slot),
one inbound event per (channel, event id), one digest per (kind, recipient, scope, period).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

AUDIENCES = ("private", "researchers", "team_anonymous", "team")
ROLES = ("participant", "lead", "researcher", "admin")
CHANNELS = ("webchat", "telegram", "slack", "teams")
DELIVERY_STATUSES = (
    "planned",
    "sending",
    "sent",
    "reminded",
    "answered",
    "expired",
    "skipped",
    "cancelled",
    "failed",
)
# Deliveries a person may still answer.
OPEN_STATUSES = ("sent", "reminded")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC. Naive datetimes are refused: a time without a zone is a bug."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given where a UTC time is needed")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# ── the study ───────────────────────────────────────────────────────────────────────────────


class Study(Timestamped, Base):
    """The research programme a study file describes (one per database, by slug)."""

    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # study-wide options from the file: consent (version, text), default audience, phase models,
    # prompt library additions or replacement, digest defaults
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source_sha256: Mapped[str] = mapped_column(String(64), default="")
    loaded_at: Mapped[datetime | None] = mapped_column()


class Partnership(Timestamped, Base):
    __tablename__ = "partnerships"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    projects: Mapped[list[Project]] = relationship(back_populates="partnership")


class Project(Timestamped, Base):
    __tablename__ = "projects"
    __table_args__ = (CheckConstraint(_in("default_audience", AUDIENCES), name="audience"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    aims: Mapped[str] = mapped_column(Text, default="")
    phase_model: Mapped[str] = mapped_column(String(80), default="scoping-exploring-testing")
    # prompt cadence as written in the study file (prompts.schedule.Cadence validates it)
    cadence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # digest schedule and options (weekday, time, empty_week)
    digest: Mapped[dict[str, Any]] = mapped_column(default=dict)
    default_audience: Mapped[str] = mapped_column(String(20), default="team_anonymous")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    partnership: Mapped[Partnership] = relationship(back_populates="projects")
    research_questions: Mapped[list[ResearchQuestion]] = relationship(
        back_populates="project", order_by="ResearchQuestion.position"
    )
    cycles: Mapped[list[Cycle]] = relationship(back_populates="project", order_by="Cycle.position")
    memberships: Mapped[list[Membership]] = relationship(back_populates="project")


class ResearchQuestion(Timestamped, Base):
    __tablename__ = "research_questions"
    __table_args__ = (UniqueConstraint("project_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    themes: Mapped[list[Any]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    project: Mapped[Project] = relationship(back_populates="research_questions")


class Cycle(Timestamped, Base):
    __tablename__ = "cycles"
    __table_args__ = (UniqueConstraint("project_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    project: Mapped[Project] = relationship(back_populates="cycles")
    phases: Mapped[list[Phase]] = relationship(back_populates="cycle", order_by="Phase.position")


class Phase(Timestamped, Base):
    __tablename__ = "phases"
    __table_args__ = (UniqueConstraint("cycle_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))  # e.g. "scoping", "exploring-evidence"
    name: Mapped[str] = mapped_column(String(200))  # e.g. "Exploring evidence"
    position: Mapped[int] = mapped_column(Integer, default=0)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # inclusive

    cycle: Mapped[Cycle] = relationship(back_populates="phases")


# ── events: retreats and local events ───────────────────────────────────────────────────────

EVENT_KINDS = ("retreat", "local-event")


class Event(Timestamped, Base):
    """A collaborative retreat or local event from the study file, and the projects taking part
    (those named, and every project of the partnerships named)."""

    __tablename__ = "events"
    __table_args__ = (CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="retreat")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # inclusive
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: left the study file

    projects: Mapped[list[Project]] = relationship(secondary="event_projects")


class EventProject(Base):
    """One project taking part in one event."""

    __tablename__ = "event_projects"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True, index=True)


# ── people and their channels ───────────────────────────────────────────────────────────────


class Person(Timestamped, Base):
    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint(
            f"default_audience IS NULL OR {_in('default_audience', AUDIENCES)}", name="audience"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)  # the study file's id
    study_code: Mapped[str] = mapped_column(String(20), unique=True)  # pseudonym for researchers
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the partnership's zone
    working_days: Mapped[list[Any]] = mapped_column(default=lambda: [0, 1, 2, 3, 4])  # Mon=0
    work_starts: Mapped[time] = mapped_column(Time, default=time(9, 0))
    work_ends: Mapped[time] = mapped_column(Time, default=time(17, 0))
    default_audience: Mapped[str | None] = mapped_column(String(20))  # None: the project's
    paused_until: Mapped[date | None] = mapped_column(Date)  # no prompts up to and including
    pauses: Mapped[list[Any]] = mapped_column(default=list)  # [{"from": iso, "until": iso}]
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: removed from the study

    memberships: Mapped[list[Membership]] = relationship(back_populates="person")
    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="person")


class Membership(Timestamped, Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("person_id", "project_id", "role"),
        CheckConstraint(_in("role", ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    person: Mapped[Person] = relationship(back_populates="memberships")
    project: Mapped[Project] = relationship(back_populates="memberships")


class ChannelIdentity(Timestamped, Base):
    """A person's handle on one channel. Platform ids live here and nowhere else."""

    __tablename__ = "channel_identities"
    __table_args__ = (
        UniqueConstraint("channel", "workspace", "external_id"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("status", ("active", "unreachable", "revoked")), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    workspace: Mapped[str] = mapped_column(String(80), default="")  # Slack team id, else ""
    external_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    preferred: Mapped[bool] = mapped_column(Boolean, default=False)
    linked_at: Mapped[datetime | None] = mapped_column()

    person: Mapped[Person] = relationship(back_populates="identities")


class LinkCode(Base):
    """A one-time code that links a channel identity to a person (sign-up)."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str | None] = mapped_column(String(20))  # None: any channel
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    used_by_identity_id: Mapped[int | None] = mapped_column(ForeignKey("channel_identities.id"))


class ConsentRecord(Base):
    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    version: Mapped[str] = mapped_column(String(40))
    text_sha256: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()


# ── deliveries and reflections ──────────────────────────────────────────────────────────────


class Delivery(Timestamped, Base):
    """One prompt to one person at one time: the unit of scheduling, compliance, idempotency."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("person_id", "project_id", "slot"),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
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
        CheckConstraint(_in("audience", AUDIENCES), name="audience"),
        CheckConstraint(
            _in("kind", ("text", "scale", "choice", "evidence", "note", "feedback")), name="kind"
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
    __table_args__ = (CheckConstraint(_in("kind", ("photo", "file", "voice")), name="kind"),)

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
            _in("status", ("pending", "sending", "sent", "failed", "skipped")), name="status"
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


class User(Timestamped, Base):
    """A web app account (researcher, lead or admin)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    person: Mapped[Person | None] = relationship()


class ReviewSession(Base):
    """A signed-in browser of the review workspace. The cookie holds a random token; the row is
    keyed by its SHA-256, so deleting the row ends the session at once."""

    __tablename__ = "review_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # the account's role when the session began: a session outlives no change of role
    is_admin: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SignInThrottle(Base):
    """Recent failed sign-ins for one key: an address, a client, or an address from one client.

    Keys and addresses are SHA-256 digests, so the table names no one; ``address`` lets an
    admin's ``carbot user reset`` clear every row of one email address."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), default="", index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(index=True)
    wait_until: Mapped[datetime | None] = mapped_column()


class Code(Timestamped, Base):
    """A codebook entry; codes nest through ``parent_id``."""

    __tablename__ = "codes"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guid: Mapped[str] = mapped_column(String(36), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id"))
    name: Mapped[str] = mapped_column(String(200))
    color: Mapped[str] = mapped_column(String(7), default="#1f77b4")
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    parent: Mapped[Code | None] = relationship(remote_side="Code.id")


class Coding(Base):
    """A code applied to a span of a reflection's text (``start``..``end``, code points, end
    exclusive), or to the whole reflection when both are None."""

    __tablename__ = "codings"
    __table_args__ = (Index("ix_codings_reflection_id_code_id", "reflection_id", "code_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guid: Mapped[str] = mapped_column(String(36), unique=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id"))
    reflection_id: Mapped[int] = mapped_column(ForeignKey("reflections.id"))
    start: Mapped[int | None] = mapped_column(Integer)
    end: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    code: Mapped[Code] = relationship()
    reflection: Mapped[Reflection] = relationship()


class Memo(Timestamped, Base):
    """A researcher's note on a reflection or on a code."""

    __tablename__ = "memos"

    id: Mapped[int] = mapped_column(primary_key=True)
    guid: Mapped[str] = mapped_column(String(36), unique=True)
    reflection_id: Mapped[int | None] = mapped_column(ForeignKey("reflections.id"), index=True)
    code_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditLog(Base):
    """Who did what, when: exports, sign-ins, study loads, admin actions."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))  # "user:<id>", "cli", "system"
    action: Mapped[str] = mapped_column(String(80))
    target: Mapped[str] = mapped_column(String(320), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
