"""What the dispatcher and the reminders share about one send: the message and its recipient,
when its answer window ends and when to remind, how long to wait before trying again, and
marking an identity unreachable after a permanent failure."""

from __future__ import annotations

import random
from datetime import datetime
from typing import cast

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import Choice, OutboundPrompt, PromptKind, Recipient
from bot.clock import Clock
from bot.engine.availability import DEFAULT_ZONE, pattern_for
from prompts.cadence import Cadence
from prompts.choices import prompt_options
from prompts.schedule import expires_at, reminder_at
from storage.models import ChannelIdentity, Delivery, Person, Project

BACKOFF_BASE_SECONDS = 60.0
BACKOFF_CAP_SECONDS = 3600.0


class Timer:
    """Times for the rows a step writes after its "now": the services' clock, never before the
    step's ``now`` (a step called at a frozen time in a test writes that time)."""

    def __init__(self, now: datetime, clock: Clock) -> None:
        self._start = now
        self._clock = clock

    def now(self) -> datetime:
        return max(self._start, self._clock.now())


def retry_delay(
    attempts: int, retry_after: float | None = None, rng: random.Random | None = None
) -> float:
    """Seconds to wait before the next attempt: exponential with jitter, or what the platform
    asked for (``retry_after``) plus a little jitter so that workers do not retry in step."""
    rng = rng or random.Random()
    if retry_after is not None and retry_after > 0:
        return retry_after * rng.uniform(1.0, 1.1)
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return base * rng.uniform(0.8, 1.2)


def prompt_context(project: Project, phase_name: str | None) -> str:
    return f"{project.name} · {phase_name}" if phase_name else project.name


def outbound_prompt(delivery: Delivery, *, reminder: bool = False) -> OutboundPrompt:
    choices = tuple(Choice(o.value, o.label) for o in prompt_options(delivery.prompt_options))
    return OutboundPrompt(
        delivery_id=delivery.id,
        kind=cast(PromptKind, delivery.prompt_kind),
        text=delivery.prompt_text,
        choices=choices,
        context=prompt_context(delivery.project, delivery.phase.name if delivery.phase else None),
        reminder=reminder,
        reminds=delivery.message_ref if reminder else None,
        # a prompt whose sending began before, a reminder that failed before
        resend=delivery.last_error is not None if reminder else delivery.attempts > 0,
    )


def recipient(identity: ChannelIdentity) -> Recipient:
    return Recipient(
        identity_id=identity.id,
        external_id=identity.external_id,
        workspace=identity.workspace or None,
    )


async def mark_unreachable(session: AsyncSession, identity_id: int, reason: str) -> None:
    """A permanent failure: the identity gets no more messages until it is linked again."""
    await session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.id == identity_id, ChannelIdentity.status == "active")
        .values(status="unreachable", status_reason=reason[:500])
    )


def answer_times(
    sent_at: datetime, project: Project, person: Person, default_zone: str = DEFAULT_ZONE
) -> tuple[datetime, datetime | None]:
    """When a prompt sent at ``sent_at`` expires, and when (if ever) to remind."""
    cadence = Cadence.model_validate(project.cadence or {})
    pattern = pattern_for(person, project, default_zone)
    return expires_at(sent_at, cadence), reminder_at(sent_at, cadence, pattern)
