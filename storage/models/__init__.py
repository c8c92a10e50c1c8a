"""carbot's data model: the domain words of DESIGN.md as SQLAlchemy 2 tables.

Times are stored in UTC (``UTCDateTime`` refuses naive datetimes and gives back aware ones on
every backend). Constraints carry the idempotency rules: one delivery per (person, project, slot),
one inbound event per (channel, event id), one digest per (kind, recipient, scope, period).
"""

from __future__ import annotations

from storage.models.base import (
    AUDIENCES,
    CHANNELS,
    DELIVERY_STATUSES,
    NAMING,
    OPEN_STATUSES,
    ROLES,
    Base,
    Timestamped,
    UTCDateTime,
    utcnow,
)
from storage.models.deliveries import (
    Attachment,
    ConversationState,
    Delivery,
    Digest,
    InboundEvent,
    Reflection,
)
from storage.models.people import ChannelIdentity, ConsentRecord, LinkCode, Membership, Person
from storage.models.review import AuditLog, Code, Coding, Memo, ReviewSession, SignInThrottle, User
from storage.models.study import (
    EVENT_KINDS,
    Cycle,
    Event,
    EventProject,
    Partnership,
    Phase,
    Project,
    ResearchQuestion,
    Study,
)

__all__ = [
    "AUDIENCES",
    "CHANNELS",
    "DELIVERY_STATUSES",
    "EVENT_KINDS",
    "NAMING",
    "OPEN_STATUSES",
    "ROLES",
    "Attachment",
    "AuditLog",
    "Base",
    "ChannelIdentity",
    "Code",
    "Coding",
    "ConsentRecord",
    "ConversationState",
    "Cycle",
    "Delivery",
    "Digest",
    "Event",
    "EventProject",
    "InboundEvent",
    "LinkCode",
    "Membership",
    "Memo",
    "Partnership",
    "Person",
    "Phase",
    "Project",
    "Reflection",
    "ResearchQuestion",
    "ReviewSession",
    "SignInThrottle",
    "Study",
    "Timestamped",
    "UTCDateTime",
    "User",
    "utcnow",
]
