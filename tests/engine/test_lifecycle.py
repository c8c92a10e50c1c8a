"""After sending: one gentle reminder at most, then expiry when the answer window ends."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from adapters.base import OutboundPrompt, OutboundText, Recipient
from adapters.errors import DeliveryError
from bot.engine.dispatch import dispatch_once
from bot.engine.lifecycle import expire_once, remind_once
from bot.services import Services
from storage.db import transaction
from storage.models import ChannelIdentity, Delivery
from tests.engine.world import TUESDAY_MORNING, get, make_world, plan
from tests.support.transcript import TranscriptChannel

NOW = TUESDAY_MORNING


async def sent_prompt(services: Services, channel: TranscriptChannel, **cadence: object) -> int:
    world = await make_world(services, cadence=dict(cadence))
    delivery_id = await plan(services, world, world.people[0], NOW)
    assert await dispatch_once(services, {"webchat": channel}, NOW, worker="w1") == 1
    return delivery_id


async def test_it_sends_one_gentle_reminder_and_never_a_second(any_services: Services) -> None:
    channel = TranscriptChannel()
    delivery_id = await sent_prompt(any_services, channel)
    row = await get(any_services, delivery_id)
    assert row.remind_at is not None

    before = row.remind_at - timedelta(minutes=1)
    assert await remind_once(any_services, {"webchat": channel}, before, worker="w1") == 0
    assert await remind_once(any_services, {"webchat": channel}, row.remind_at, worker="w1") == 1
    later = row.remind_at + timedelta(hours=3)
    assert await remind_once(any_services, {"webchat": channel}, later, worker="w2") == 0

    reminders = [p for p in channel.prompts if p.reminder]
    assert [p.delivery_id for p in reminders] == [delivery_id]
    assert reminders[0].text == channel.prompts[0].text
    assert reminders[0].choices == channel.prompts[0].choices
    row = await get(any_services, delivery_id)
    assert row.status == "reminded"
    assert row.reminded_at is not None
    assert row.reminder_ref == channel.sent[-1].ref.ref


async def test_two_workers_reminding_at_once_send_one_reminder(any_services: Services) -> None:
    channel = TranscriptChannel()
    delivery_id = await sent_prompt(any_services, channel)
    row = await get(any_services, delivery_id)

    counts = await asyncio.gather(
        *(
            remind_once(any_services, {"webchat": channel}, row.remind_at, worker=f"w{n}")
            for n in range(4)
        )
    )

    assert sum(counts) == 1
    assert [p.delivery_id for p in channel.prompts if p.reminder] == [delivery_id]


async def test_an_answered_prompt_gets_no_reminder(services: Services) -> None:
    channel = TranscriptChannel()
    delivery_id = await sent_prompt(services, channel)
    row = await get(services, delivery_id)
    async with transaction(services.sessions) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(status="answered", answered_at=NOW + timedelta(hours=1))
        )

    assert await remind_once(services, {"webchat": channel}, row.remind_at, worker="w1") == 0
    assert not [p for p in channel.prompts if p.reminder]


async def test_there_is_no_reminder_when_the_project_turned_them_off(services: Services) -> None:
    channel = TranscriptChannel()
    delivery_id = await sent_prompt(services, channel, reminder_after_hours=None)
    row = await get(services, delivery_id)
    assert row.remind_at is None

    assert (
        await remind_once(services, {"webchat": channel}, NOW + timedelta(hours=47), worker="w1")
        == 0
    )


async def test_a_reminder_that_failed_briefly_is_tried_again_later(services: Services) -> None:
    pending = [DeliveryError("timeout")]

    async def fail_once(_to: Recipient, message: OutboundPrompt | OutboundText) -> None:
        if isinstance(message, OutboundPrompt) and message.reminder and pending:
            raise pending.pop()

    channel = TranscriptChannel(on_send=fail_once)
    delivery_id = await sent_prompt(services, channel)
    remind_at = (await get(services, delivery_id)).remind_at
    assert remind_at is not None

    assert await remind_once(services, {"webchat": channel}, remind_at, worker="w1") == 0
    row = await get(services, delivery_id)
    assert (row.status, row.reminded_at, row.last_error) == ("sent", None, "timeout")
    assert row.remind_at is not None and row.remind_at > remind_at
    assert await remind_once(services, {"webchat": channel}, row.remind_at, worker="w1") == 1
    assert len([p for p in channel.prompts if p.reminder]) == 1


async def test_a_blocked_reminder_marks_the_identity_unreachable_and_is_dropped(
    services: Services,
) -> None:
    async def blocked(_to: Recipient, message: OutboundPrompt | OutboundText) -> None:
        if isinstance(message, OutboundPrompt) and message.reminder:
            raise DeliveryError("blocked", permanent=True)

    channel = TranscriptChannel(on_send=blocked)
    delivery_id = await sent_prompt(services, channel)
    row = await get(services, delivery_id)

    assert await remind_once(services, {"webchat": channel}, row.remind_at, worker="w1") == 0
    row = await get(services, delivery_id)
    assert (row.status, row.remind_at) == ("sent", None)
    async with services.sessions() as session:
        identity = await session.get(ChannelIdentity, row.identity_id)
    assert identity is not None and identity.status == "unreachable"


async def test_an_unanswered_prompt_expires_when_its_window_ends(any_services: Services) -> None:
    channel = TranscriptChannel()
    delivery_id = await sent_prompt(any_services, channel)
    row = await get(any_services, delivery_id)
    assert row.expires_at is not None

    assert await expire_once(any_services, row.expires_at - timedelta(seconds=1)) == 0
    assert await remind_once(any_services, {"webchat": channel}, row.remind_at, worker="w1") == 1
    assert await expire_once(any_services, row.expires_at) == 1
    assert await expire_once(any_services, row.expires_at + timedelta(hours=1)) == 0

    row = await get(any_services, delivery_id)
    assert row.status == "expired"
    assert row.expired_at is not None
    assert await remind_once(any_services, {"webchat": channel}, row.expires_at, worker="w1") == 0
