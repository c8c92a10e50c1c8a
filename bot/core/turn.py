"""One inbound message being handled: who sent it, the open transaction, what to say back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import Answered, Choice, InboundMessage, OutboundText
from bot.core.people import person_zone
from bot.services import Services
from storage.models import ChannelIdentity, ConversationState, Person


@dataclass
class Turn:
    services: Services
    session: AsyncSession
    message: InboundMessage
    identity: ChannelIdentity
    person: Person
    now: datetime
    replies: list[OutboundText] = field(default_factory=list)
    answered: Answered | None = None
    outcome: str = "handled"
    files_to_unlink: list[str] = field(default_factory=list)
    # words and (path, sha256) files taken back: outbox digest copies quoting them lose their body
    forget_in_outbox: list[str] = field(default_factory=list)
    forget_evidence: list[tuple[str, str]] = field(default_factory=list)

    async def zone(self) -> ZoneInfo:
        """The zone this person's times are told in (:func:`bot.core.people.person_zone`)."""
        return await person_zone(self.session, self.person, self.services.settings.default_timezone)

    def say(self, text: str, choices: tuple[Choice, ...] = ()) -> None:
        self.replies.append(OutboundText(text, choices))

    async def state(self) -> ConversationState | None:
        return await self.session.get(ConversationState, self.identity.id)

    async def set_state(self, state: str, data: dict[str, Any]) -> None:
        row = await self.state()
        if row is None:
            row = ConversationState(identity_id=self.identity.id, state=state, data=data)
            self.session.add(row)
        row.state = state
        row.data = data
        row.updated_at = self.now

    async def clear_state(self) -> None:
        row = await self.state()
        if row is not None:
            await self.session.delete(row)
