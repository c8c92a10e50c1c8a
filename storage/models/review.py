"""The review workspace's rows: accounts, sessions, the sign-in throttle, codes, codings, memos
and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, Timestamped, utcnow

if TYPE_CHECKING:
    from storage.models.deliveries import Reflection
    from storage.models.people import Person


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
