"""The conversation core: one inbound message in, what to say back out — channel-neutral.

``Conversation.handle`` runs each message in ONE database transaction:

1. the platform event id is inserted into ``inbound_events`` (unique per channel); if it is
   already there the event is a redelivery and nothing is stored or said again;
2. the sender's channel identity is looked up; an unknown sender gets an explanation of how to
   sign up, and the transaction is rolled back — nothing about them is kept, not even the event
   (a redelivered message from a stranger just gets the same explanation again);
3. the message is acted on (sign-up, consent, a command, an answer, a note) and committed.

A person who has withdrawn is answered but nothing is kept (the transaction is rolled back, the
event row with it) until they agree again. Choosing "delete everything" after ``stop`` rolls the
message back too and then runs :func:`bot.privacy.erasure.erase_person`.

Only after the commit does ``handle`` return the replies, so an adapter that confirms to the
person can never confirm something that was not stored.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters import actions
from adapters.base import InboundMessage, InboundResult, OutboundText
from bot.core import texts
from bot.core.answers import file_note, handle_answer, heard
from bot.core.commands import STOP_WORDS, run_command, set_audience
from bot.core.evidence import unlink_files
from bot.core.limits import ANSWER_LIMIT
from bot.core.matching import newest_open
from bot.core.onboarding import (
    consent_request,
    current_consent,
    outdated_consent,
    reconsent_request,
    record_consent,
    redeem_link_code,
)
from bot.core.parsing import parse_command
from bot.core.people import too_small_for_anonymity
from bot.core.turn import Turn
from bot.privacy.erasure import erase_person
from bot.privacy.outbox import cut_quotes
from bot.services import Services
from storage.models import InboundEvent, Person
from storage.queries import channel_identity

log = logging.getLogger(__name__)


# Outcomes after which the person's standing (paused, audience, linked, taking part) differs.
STANDING_CHANGED = frozenset(
    ("linked", "consented", "paused", "resumed", "audience_default", "audience_last", "withdrawn")
)


class _Duplicate(Exception):
    pass


class _Discard(Exception):
    """Say something, but keep nothing: roll the transaction back."""

    def __init__(self, *replies: OutboundText) -> None:
        super().__init__("discarded")
        self.replies = list(replies)


class _Erase(Exception):
    """The person chose to delete everything they shared: roll back, then erase them."""

    def __init__(self, person_key: str) -> None:
        super().__init__("erase")
        self.person_key = person_key


def without_nul(message: InboundMessage) -> InboundMessage:
    """The message with NUL characters taken out of its text fields: they are invisible, mean
    nothing to a person, and PostgreSQL refuses them in text (the update would fail for ever)."""
    changed: dict[str, Any] = {
        name: value.replace("\x00", "")
        for name, value in vars(message).items()
        if isinstance(value, str) and "\x00" in value
    }
    return dataclasses.replace(message, **changed) if changed else message


class Conversation:
    """Handles inbound messages for every channel (pass ``handle`` to ``Channel.start``)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.clock = services.clock

    async def handle(self, message: InboundMessage) -> InboundResult:
        message = without_nul(message)
        now = self.clock.now()
        try:
            async with self.services.sessions() as session, session.begin():
                event = await self._record_event(session, message)
                turn = await self._turn(session, message, now)
                await self._act(turn)
                event.identity_id = turn.identity.id
                event.outcome = turn.outcome[:40]
        except _Duplicate:
            log.info("ignored a redelivered %s event", message.channel, extra={"action": "dup"})
            return InboundResult(duplicate=True)
        except _Discard as discard:
            return InboundResult(replies=discard.replies)
        except _Erase as erase:
            return InboundResult(replies=[await self._erase(erase.person_key, now)])
        if turn.files_to_unlink:
            await unlink_files(self.services.settings.data_dir, turn.files_to_unlink)
        if turn.forget_in_outbox or turn.forget_evidence:
            cut_quotes(
                Path(self.services.settings.outbox_dir),
                turn.forget_in_outbox,
                turn.forget_evidence,
                now,
            )
        return InboundResult(
            replies=turn.replies,
            answered=turn.answered,
            state_changed=turn.outcome in STANDING_CHANGED,
        )

    async def _erase(self, person_key: str, now: datetime) -> OutboundText:
        """Run the erasure the person asked for (nothing of this message is stored)."""
        try:
            report = await erase_person(
                self.services, person_key, actor="participant", reason="asked in chat", now=now
            )
        except Exception:
            log.exception("erasure asked for in chat failed", extra={"action": "erase_failed"})
            return OutboundText(texts.ERASE_FAILED)
        return OutboundText(texts.ERASED if report.ok else texts.ERASE_INCOMPLETE)

    async def _record_event(self, session: AsyncSession, message: InboundMessage) -> InboundEvent:
        """Insert the event id first: a redelivery fails here, before anything else happens."""
        event = InboundEvent(
            channel=message.channel,
            event_id=message.event_id[:200],
            received_at=message.received_at,
        )
        session.add(event)
        try:
            await session.flush()
        except IntegrityError as exc:
            raise _Duplicate from exc
        return event

    async def _turn(self, session: AsyncSession, message: InboundMessage, now: datetime) -> Turn:
        identity = await channel_identity(
            session, message.channel, message.external_id, message.workspace
        )
        command = parse_command(message)
        if command is not None and command[0] in ("start", "link") and command[1]:
            linked = await redeem_link_code(session, message, command[1], now)
            if linked is None:
                raise _Discard(OutboundText(texts.BAD_CODE))
            identity = linked
            person = await session.get(Person, identity.person_id)
            assert person is not None
            turn = Turn(self.services, session, message, identity, person, now)
            turn.outcome = "linked"
            turn.say(texts.LINKED.format(name=person.name.split()[0], channel=message.channel))
            return turn
        if identity is None:
            raise _Discard(OutboundText(texts.UNKNOWN_SENDER))
        person = await session.get(Person, identity.person_id)
        if person is None or not person.active:
            raise _Discard(OutboundText(texts.INACTIVE_PERSON))
        if identity.status == "unreachable":  # they wrote to us, so we can reach them again
            identity.status, identity.status_reason = "active", None
            log.info("identity %s is reachable again", identity.id, extra={"action": "reachable"})
        return Turn(self.services, session, message, identity, person, now)

    async def _act(self, turn: Turn) -> None:
        message = turn.message
        consent = await current_consent(turn.session, turn.person)
        action = actions.decode(message.choice)
        command = parse_command(message)
        if turn.outcome == "linked":
            greeting = turn.replies.pop().text
            if consent is None:
                lead_in = f"{greeting}\n\n{texts.NEEDS_CONSENT}"
                turn.replies.append(await consent_request(turn.session, lead_in))
            else:
                turn.say(f"{greeting} {texts.READY}")
            return
        if isinstance(action, actions.Withdraw):
            if action.erase:
                raise _Erase(turn.person.key)
            if turn.person.withdrawn_at is None:
                raise _Discard(OutboundText("You're taking part at the moment; nothing changed."))
            raise _Discard(OutboundText(texts.KEPT))
        if isinstance(action, actions.Consent):
            await self._consent(turn, agreed=action.agreed, consented=consent is not None)
            return
        if consent is None:
            turn.outcome = "needs_consent"
            wants_start = command is not None and command[0] == "start"
            if turn.person.withdrawn_at is not None:
                # nothing of a withdrawn person's messages is kept, not even the event id
                raise _Discard(*await self._withdrawn_reply(turn, command, wants_start))
            outdated = await outdated_consent(turn.session, turn.person)
            if outdated is not None:  # agreed to an earlier version: nothing kept until re-agreed
                turn.outcome = "needs_reconsent"
                turn.replies.append(await reconsent_request(turn.session, outdated))
                return
            turn.replies.append(await consent_request(turn.session))
            return
        if message.too_large:
            turn.outcome = "too_large"
            limit = texts.human_size(self.services.settings.max_upload_bytes)
            turn.say(texts.TOO_LARGE.format(limit=limit))
            return
        if len(message.text or "") > ANSWER_LIMIT:
            turn.outcome = "too_long"
            turn.say(texts.TOO_LONG.format(length=len(message.text or ""), limit=ANSWER_LIMIT))
            return
        words = (message.text or "").strip()
        if isinstance(action, actions.SetAudience):
            await set_audience(turn, action.audience, last=action.last)
        elif isinstance(action, actions.FileNote):
            await file_note(turn, action.project)
        elif isinstance(action, actions.Heard):
            if action.digest_id is not None:
                await heard(turn, action.digest_id, action.right)
            else:
                turn.say(texts.HEARD_UNKNOWN)
        elif isinstance(action, actions.Pause):  # the Slack App Home's pause buttons
            await run_command(turn, "pause", action.span)
        elif isinstance(action, actions.Resume):
            await run_command(turn, "resume", "")
        elif isinstance(action, actions.Pick) and message.delivery_id is None and not words:
            turn.outcome = "refused"  # a prompt's buttons name their prompt; a reply's are actions
            turn.say(actions.UNREADABLE)
        elif isinstance(action, actions.Write) and not words:
            turn.outcome = "empty"  # an *Answer* button's value, but no words came with it
            turn.say(texts.EMPTY)
        elif command is not None and command[0] in ("start", "link"):
            turn.outcome = "help"
            turn.say(texts.READY)
        elif command is not None:
            await run_command(turn, *command)
        else:
            await handle_answer(turn)

    async def _withdrawn_reply(
        self, turn: Turn, command: tuple[str, str] | None, wants_start: bool
    ) -> list[OutboundText]:
        if wants_start:
            return [await consent_request(turn.session)]
        if command is not None and command[0] in STOP_WORDS:
            return [OutboundText(texts.WITHDRAWAL, texts.withdrawal_choices())]
        if command is not None and command[0] == "mydata":
            await run_command(turn, *command)
            return turn.replies
        return [OutboundText(texts.WITHDRAWN)]

    async def _consent(self, turn: Turn, *, agreed: bool, consented: bool) -> None:
        if agreed:
            if not consented:
                await record_consent(
                    turn.session, turn.person, channel=turn.message.channel, now=turn.now
                )
            turn.outcome = "consented"
            waiting = await newest_open(turn.session, turn.person, turn.now)
            after = f"\n\n{texts.ANSWER_NOW}" if waiting is not None else ""
            small = await too_small_for_anonymity(turn.session, turn.person)
            question = texts.audience_question([project.name for project in small])
            turn.say(f"{texts.CONSENT_GIVEN}\n\n{question}{after}", texts.audience_choices())
        elif consented:
            turn.say("You're taking part at the moment. Send 'stop' if you want to leave.")
        else:
            turn.outcome = "declined"
            turn.say(texts.CONSENT_DECLINED)
