"""Inbound events: deduplicated, stored before the reply, strangers kept out."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from adapters.base import OutboundPrompt, OutboundText, Recipient
from bot.core.conversation import Conversation
from storage.models import ChannelIdentity, Delivery, InboundEvent, Reflection
from tests.core.conftest import NOW, World
from tests.support.participants import make_delivery
from tests.support.transcript import TranscriptChannel


async def _sent_delivery(world: World, **kwargs: Any) -> Delivery:
    async with world.services.sessions() as session, session.begin():
        return await make_delivery(
            session, world.person, world.rows, sent_at=NOW - timedelta(hours=1), **kwargs
        )


async def test_the_same_inbound_event_delivered_twice_is_stored_once_and_confirmed_once(
    any_world: World,
) -> None:
    world = any_world
    delivery = await _sent_delivery(world)
    message = world.channel.message(world.who, "The drop-in was busier than usual", event_id="e1")

    first = await world.channel.deliver(message)
    second = await world.channel.deliver(message)

    assert not first.duplicate and second.duplicate
    assert second.replies == []
    assert "Saved to Family hub approach" in world.channel.unique_reply().text
    reflections = await world.all(Reflection)
    assert [(r.delivery_id, r.text) for r in reflections] == [
        (delivery.id, "The drop-in was busier than usual")
    ]
    assert await world.count(InboundEvent) == 1


async def test_a_burst_of_the_same_event_at_once_is_stored_once(any_world: World) -> None:
    world = any_world
    await _sent_delivery(world)
    message = world.channel.message(world.who, "Same words, sent three times", event_id="burst")

    results = await asyncio.gather(*(world.channel.deliver(message) for _ in range(3)))

    assert sorted(r.duplicate for r in results) == [False, True, True]
    assert await world.count(Reflection) == 1
    assert len(world.channel.new_texts()) == 1


async def test_the_reflection_is_committed_before_the_adapter_sends_the_confirmation(
    world: World,
) -> None:
    await _sent_delivery(world)
    seen_at_send: list[int] = []

    async def check_database(_to: Recipient, _message: OutboundPrompt | OutboundText) -> None:
        # a fresh session: only committed rows are visible here
        seen_at_send.append(await world.count(Reflection))

    world.channel.on_send = check_database
    await world.channel.say(world.who, "We tried the new referral form")

    assert seen_at_send == [1]


async def test_an_unknown_sender_is_told_how_to_sign_up_and_nothing_is_kept(world: World) -> None:
    result = await world.channel.say("stranger-99", "hello, what is this?", event_id="s1")

    assert "ask your project lead" in world.channel.unique_reply().text
    assert not result.duplicate
    assert await world.count(InboundEvent) == 0
    assert await world.count(Reflection) == 0
    assert await world.count(ChannelIdentity) == 1  # only the world's own participant


async def test_a_revoked_identity_is_treated_as_a_stranger(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        identity = await session.get(ChannelIdentity, world.identity.id)
        assert identity is not None
        identity.status = "revoked"

    await world.channel.say(world.who, "Is this thing on?")

    assert "I don't know you yet" in world.channel.unique_reply().text
    assert await world.count(Reflection) == 0


async def test_events_from_different_channels_may_share_an_id(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        session.add(InboundEvent(channel="telegram", event_id="42", received_at=NOW))

    result = await world.channel.say(world.who, "A note with a clashing id", event_id="42")

    assert not result.duplicate
    assert await world.count(Reflection) == 1


async def test_the_event_records_who_sent_it_and_what_happened(world: World) -> None:
    await world.channel.say(world.who, "help", event_id="h1")

    async with world.services.sessions() as session:
        event = await session.scalar(select(InboundEvent).where(InboundEvent.event_id == "h1"))
    assert event is not None
    assert (event.identity_id, event.outcome) == (world.identity.id, "help")


async def test_a_second_conversation_sees_the_first_ones_events(world: World) -> None:
    """Two workers (two Conversation objects) share one database: still answered once."""
    other = TranscriptChannel()
    await other.start(Conversation(world.services.with_clock(world.clock)).handle)
    message = world.channel.message(world.who, "One event, two workers", event_id="w1")

    await world.channel.deliver(message)
    repeat = await other.deliver(message)

    assert repeat.duplicate
    assert await world.count(Reflection) == 1
