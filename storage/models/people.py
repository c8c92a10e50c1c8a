"""People and how carbot reaches them: persons, memberships, chat identities, link codes and
consent records."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import AUDIENCES, CHANNELS, ROLES, Base, Timestamped, one_of, utcnow

if TYPE_CHECKING:
    from storage.models.study import Project


class Person(Timestamped, Base):
    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint(
            f"default_audience IS NULL OR {one_of('default_audience', AUDIENCES)}", name="audience"
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
        CheckConstraint(one_of("role", ROLES), name="role"),
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
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(one_of("status", ("active", "unreachable", "revoked")), name="status"),
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
