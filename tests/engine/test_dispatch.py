"""Dispatch: due prompts go out once, through the right channel, and every outcome is recorded."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from adapters.base import OutboundPrompt, OutboundText, Recipient
from adapters.errors import DeliveryError
from bot.engine.deliveries import transition_for, why
from bot.engine.dispatch import dispatch_once
from bot.engine.leases import claim_due, release_leases
from bot.services import Services
from storage.db import transaction
from storage.models import ChannelIdentity, Person
from tests.conftest import make_settings
from tests.engine.world import TUESDAY_MORNING, get, make_world, plan
from tests.support.transcript import TranscriptChannel

NOW = TUESDAY_MORNING


def failing(*errors: DeliveryError) -> TranscriptChannel:
    """A channel whose next sends raise ``errors`` in turn, then succeed."""
    pending = list(errors)

    async def fail(_to: Recipient, _message: OutboundPrompt | OutboundText) -> None:
        if pending:
            raise pending.pop(0)

    return TranscriptChannel(on_send=fail)


async def test_it_sends_a_due_prompt_through_the_persons_channel_and_records_it(
    any_services: Services,
) -> None:
    world = await make_world(any_services)
    person = world.people[0]
    delivery_id = await plan(any_services, world, person, NOW - timedelta(minutes=1))
    channel = TranscriptChannel()

    sent = await dispatch_once(any_services, {"webchat": channel}, NOW, worker="w1")

    assert sent == 1
    [message] = channel.sent
    prompt = message.message
    assert isinstance(prompt, OutboundPrompt)
    assert prompt.delivery_id == delivery_id
    assert prompt.kind == "scale"
    assert prompt.choices[0].label == "Not at all"
    assert len(prompt.choices) == 5
    assert prompt.context == "Family hub approach · Exploring evidence"
    assert not prompt.reminder
    assert message.to.external_id == "web-0"
    row = await get(any_services, delivery_id)
    assert row.status == "sent"
    assert row.message_ref == message.ref.ref
    assert row.identity_id == world.identities[person]
    assert row.sent_at is not None and row.sent_at - NOW < timedelta(seconds=5)
    assert row.expires_at == row.sent_at + timedelta(hours=48)
    assert row.remind_at == row.sent_at + timedelta(hours=24)
    assert row.lease_owner is None and row.lease_until is None
    assert row.attempts == 1


async def test_it_sends_nothing_before_a_prompt_is_due_and_nothing_twice(
    any_services: Services,
) -> None:
    world = await make_world(any_services)
    later = await plan(any_services, world, world.people[0], NOW + timedelta(hours=2))
    channel = TranscriptChannel()

    assert await dispatch_once(any_services, {"webchat": channel}, NOW, worker="w1") == 0
    later_on = NOW + timedelta(hours=2)
    assert await dispatch_once(any_services, {"webchat": channel}, later_on, worker="w1") == 1
    assert await dispatch_once(any_services, {"webchat": channel}, later_on, worker="w2") == 0
    assert [p.delivery_id for p in channel.prompts] == [later]


async def test_a_transient_failure_puts_the_prompt_back_with_a_backoff_then_it_goes(
    any_services: Services,
) -> None:
    world = await make_world(any_services)
    delivery_id = await plan(any_services, world, world.people[0], NOW)
    channel = failing(DeliveryError("Bad Gateway"))

    assert await dispatch_once(any_services, {"webchat": channel}, NOW, worker="w1") == 0

    row = await get(any_services, delivery_id)
    assert row.status == "planned"
    assert row.attempts == 1
    assert row.last_error == "Bad Gateway"
    assert timedelta(seconds=40) <= row.due_at - NOW <= timedelta(seconds=80)
    assert row.lease_owner is None
    assert await dispatch_once(any_services, {"webchat": channel}, NOW, worker="w1") == 0
    assert await dispatch_once(any_services, {"webchat": channel}, row.due_at, worker="w1") == 1
    row = await get(any_services, delivery_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(channel.prompts) == 1


async def test_it_waits_as_long_as_the_platform_asks(services: Services) -> None:
    world = await make_world(services)
    delivery_id = await plan(services, world, world.people[0], NOW)
    channel = failing(DeliveryError("Too Many Requests", retry_after=600))

    await dispatch_once(services, {"webchat": channel}, NOW, worker="w1")

    row = await get(services, delivery_id)
    assert timedelta(seconds=600) <= row.due_at - NOW <= timedelta(seconds=670)


async def test_backoff_grows_with_each_attempt(services: Services) -> None:
    world = await make_world(services)
    delivery_id = await plan(services, world, world.people[0], NOW)
    channel = failing(*[DeliveryError("timeout")] * 3)
    waits = []
    now = NOW
    for _ in range(3):
        await dispatch_once(services, {"webchat": channel}, now, worker="w1")
        row = await get(services, delivery_id)
        waits.append(row.due_at - now)
        now = row.due_at
    assert waits[0] < waits[1] < waits[2]
    assert waits[2] >= timedelta(minutes=3)


async def test_a_retry_waits_for_working_hours(services: Services) -> None:
    world = await make_world(services)
    friday_evening = NOW.replace(day=12, hour=16, minute=59, second=30)
    delivery_id = await plan(services, world, world.people[0], friday_evening)
    channel = failing(DeliveryError("Service Unavailable"))

    await dispatch_once(services, {"webchat": channel}, friday_evening, worker="w1")

    row = await get(services, delivery_id)
    # Monday 15 March 2027, 09:00 in Fife (GMT).
    assert row.due_at == NOW.replace(day=15, hour=9, minute=0)


async def test_it_marks_a_prompt_failed_after_the_last_attempt(tmp_path: Path) -> None:
    services = Services.from_settings(make_settings(tmp_path, dispatch_max_attempts=3))
    from tests.conftest import _create_schema

    await _create_schema(services)
    try:
        world = await make_world(services)
        delivery_id = await plan(services, world, world.people[0], NOW)
        channel = failing(*[DeliveryError("Gateway Timeout")] * 5)
        now = NOW
        for _ in range(4):
            await dispatch_once(services, {"webchat": channel}, now, worker="w1")
            now += timedelta(hours=2)
        row = await get(services, delivery_id)
        assert (row.status, row.attempts) == ("failed", 3)
        assert row.failed_at is not None
        assert row.last_error == "Gateway Timeout"
        assert channel.prompts == []
    finally:
        await services.close()


async def test_a_permanent_failure_marks_the_identity_unreachable_and_stops_sends_to_it(
    any_services: Services,
) -> None:
    world = await make_world(any_services)
    person = world.people[0]
    first = await plan(any_services, world, person, NOW)
    second = await plan(any_services, world, person, NOW + timedelta(days=2))
    channel = failing(DeliveryError("Forbidden: bot was blocked by the user", permanent=True))

    await dispatch_once(any_services, {"webchat": channel}, NOW, worker="w1")
    row = await get(any_services, first)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == "Forbidden: bot was blocked by the user"
    async with any_services.sessions() as session:
        identity = await session.get(ChannelIdentity, world.identities[person])
    assert identity is not None
    assert identity.status == "unreachable"
    assert identity.status_reason == "Forbidden: bot was blocked by the user"

    await dispatch_once(any_services, {"webchat": channel}, NOW + timedelta(days=2), worker="w1")
    row = await get(any_services, second)
    assert (row.status, row.last_error) == ("failed", "no reachable channel")
    assert channel.sent == []


async def test_it_uses_the_preferred_identity_else_the_most_recently_linked(
    services: Services,
) -> None:
    world = await make_world(services)
    person = world.people[0]
    async with transaction(services.sessions) as session:
        for n, (name, preferred, age) in enumerate(
            [("telegram", False, 1), ("slack", False, 5), ("webchat", False, 10)]
        ):
            if name == "webchat":
                continue
            session.add(
                ChannelIdentity(
                    person_id=person,
                    channel=name,
                    external_id=f"{name}-{n}",
                    preferred=preferred,
                    linked_at=NOW - timedelta(days=age),
                )
            )
    channels = {name: TranscriptChannel(name=name) for name in ("webchat", "telegram", "slack")}
    await plan(services, world, person, NOW)
    await dispatch_once(services, channels, NOW, worker="w1")
    assert len(channels["telegram"].prompts) == 1  # linked most recently

    async with transaction(services.sessions) as session:
        await session.execute(
            update(ChannelIdentity).where(ChannelIdentity.channel == "slack").values(preferred=True)
        )
    await plan(services, world, person, NOW + timedelta(days=1))
    await dispatch_once(services, channels, NOW + timedelta(days=1), worker="w1")
    assert len(channels["slack"].prompts) == 1

    # A channel that is not running is passed over.
    await plan(services, world, person, NOW + timedelta(days=2))
    await dispatch_once(
        services, {"webchat": channels["webchat"]}, NOW + timedelta(days=2), worker="w1"
    )
    assert len(channels["webchat"].prompts) == 1


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"withdrawn_at": NOW - timedelta(hours=1)}, "skipped", "withdrawn"),
        ({"paused_until": NOW.date()}, "skipped", "paused"),
        ({"pauses": [{"from": "2027-03-08", "until": "2027-03-12"}]}, "cancelled", "leave"),
        ({"active": False}, "cancelled", "left"),
    ],
)
async def test_it_does_not_send_to_someone_who_withdrew_paused_or_left_since_planning(
    services: Services, change: dict[str, object], status: str, reason: str
) -> None:
    world = await make_world(services)
    person = world.people[0]
    delivery_id = await plan(services, world, person, NOW)
    async with transaction(services.sessions) as session:
        await session.execute(update(Person).where(Person.id == person).values(**change))
    channel = TranscriptChannel()

    assert await dispatch_once(services, {"webchat": channel}, NOW, worker="w1") == 0

    row = await get(services, delivery_id)
    assert (row.status, row.status_reason, row.last_error) == (status, reason, why(reason))
    assert getattr(row, f"{status}_at") is not None
    assert transition_for(status, reason).to == status
    assert channel.sent == []


async def test_a_prompt_whose_answer_window_passed_unsent_is_cancelled_not_sent(
    services: Services,
) -> None:
    world = await make_world(services)
    delivery_id = await plan(services, world, world.people[0], NOW)
    channel = TranscriptChannel()

    await dispatch_once(services, {"webchat": channel}, NOW + timedelta(days=3), worker="w1")

    row = await get(services, delivery_id)
    assert row.status == "cancelled"
    assert channel.sent == []


async def test_a_worker_does_not_take_what_another_holds_until_its_lease_runs_out(
    any_services: Services,
) -> None:
    world = await make_world(any_services)
    delivery_id = await plan(any_services, world, world.people[0], NOW)
    assert await claim_due(any_services, NOW, worker="dead", limit=10) == [delivery_id]
    channel = TranscriptChannel()

    lease = timedelta(seconds=any_services.settings.dispatch_lease_seconds)
    assert await dispatch_once(any_services, {"webchat": channel}, NOW, worker="w2") == 0
    assert await dispatch_once(any_services, {"webchat": channel}, NOW + lease, worker="w2") == 0
    later = NOW + lease + timedelta(seconds=1)
    assert await dispatch_once(any_services, {"webchat": channel}, later, worker="w2") == 1
    row = await get(any_services, delivery_id)
    assert (row.status, row.attempts) == ("sent", 1)  # the dead worker never began sending it
    assert [p.delivery_id for p in channel.prompts] == [delivery_id]


async def test_stopping_finishes_the_send_in_flight_and_releases_the_rest(
    services: Services,
) -> None:
    world = await make_world(services, people=3)
    ids = [await plan(services, world, person, NOW) for person in world.people]
    stop = asyncio.Event()

    async def stop_after_first(_to: Recipient, _message: OutboundPrompt | OutboundText) -> None:
        stop.set()  # SIGTERM arrives while the first prompt is being sent

    channel = TranscriptChannel(on_send=stop_after_first)
    sent = await dispatch_once(services, {"webchat": channel}, NOW, worker="w1", stop=stop)

    assert sent == 1
    assert [p.delivery_id for p in channel.prompts] == [ids[0]]
    rows = [await get(services, i) for i in ids]
    assert [r.status for r in rows] == ["sent", "planned", "planned"]
    assert [r.attempts for r in rows] == [1, 0, 0]
    assert all(r.lease_owner is None for r in rows)
    assert await release_leases(services, worker="w1") == 0


async def test_after_a_permanent_failure_the_persons_next_prompt_uses_another_channel(
    services: Services,
) -> None:
    world = await make_world(services)
    person = world.people[0]
    async with transaction(services.sessions) as session:
        session.add(
            ChannelIdentity(person_id=person, channel="telegram", external_id="4242", linked_at=NOW)
        )
    first = await plan(services, world, person, NOW - timedelta(minutes=5))
    second = await plan(services, world, person, NOW)
    telegram = failing(DeliveryError("Forbidden: bot was blocked by the user", permanent=True))
    telegram.name = "telegram"
    webchat = TranscriptChannel()

    await dispatch_once(services, {"webchat": webchat, "telegram": telegram}, NOW, worker="w1")

    assert (await get(services, first)).status == "failed"
    assert (await get(services, second)).status == "sent"
    assert [p.delivery_id for p in webchat.prompts] == [second]
    assert (await get(services, second)).identity_id == world.identities[person]


async def test_a_delivery_that_every_worker_died_sending_is_given_up_not_claimed_forever(
    services: Services,
) -> None:
    world = await make_world(services)
    delivery_id = await plan(services, world, world.people[0], NOW)
    lease = timedelta(seconds=services.settings.dispatch_lease_seconds + 1)

    async def hang(_to: Recipient, _message: OutboundPrompt | OutboundText) -> None:
        await asyncio.Event().wait()  # the worker dies inside the platform call

    now = NOW
    for n in range(services.settings.dispatch_max_attempts):
        dying = TranscriptChannel(on_send=hang)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(
                dispatch_once(services, {"webchat": dying}, now, worker=f"dead-{n}"), 0.5
            )
        now += lease
    channel = TranscriptChannel()

    assert await dispatch_once(services, {"webchat": channel}, now, worker="w1") == 0

    row = await get(services, delivery_id)
    assert (row.status, row.last_error) == ("failed", "gave up after 5 attempts")
    assert channel.sent == []
