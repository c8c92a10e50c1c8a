"""The study's shape: the study row, partnerships, projects, research questions, cycles, phases
and events."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import AUDIENCES, Base, Timestamped, one_of

if TYPE_CHECKING:
    from storage.models.people import Membership


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
    __table_args__ = (CheckConstraint(one_of("default_audience", AUDIENCES), name="audience"),)

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
    __table_args__ = (CheckConstraint(one_of("kind", EVENT_KINDS), name="kind"),)

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
