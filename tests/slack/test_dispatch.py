"""Dispatch sends prompts through the Slack channel; a gone Slack user stops further sends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from adapters.base import OutboundPrompt
from adapters.slack import SlackChannel
from bot.engine.dispatch import dispatch_once, recipient
from bot.engine.lifecycle import remind_once
from bot.services import Services
from storage.models import ChannelIdentity, Delivery
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import NOW, http_channel, make_alex
from tests.slack.payloads import DM, buttons
from tests.support.participants import make_delivery, seed


async def planned_scale_prompt(services: Services) -> int:
    async def build(session: Any) -> int:
        rows, person, _identity = await make_alex(session)
        delivery = await make_delivery(
            session,
            person,
            rows,
            sent_at=NOW - timedelta(minutes=5),
            kind="scale",
            text="How well does the hub reach new parents?",
            status="planned",
        )
        return int(delivery.id)

    return await seed(services, build)


async def stored(services: Services, delivery_id: int) -> tuple[Delivery, ChannelIdentity]:
    async with services.sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
        identity = await session.scalar(select(ChannelIdentity))
        assert delivery is not None and identity is not None
        return delivery, identity


async def test_dispatch_sends_a_due_prompt_as_a_slack_dm_and_keeps_its_reference(
    services: Services, fake_slack: FakeSlack
) -> None:
    delivery_id = await planned_scale_prompt(services)
    channel: SlackChannel = http_channel(fake_slack)

    sent = await dispatch_once(services, {"slack": channel}, NOW, worker="w1")

    assert sent == 1
    delivery, _identity = await stored(services, delivery_id)
    [(conversation, ts)] = fake_slack.messages
    assert delivery.status == "sent"
    assert delivery.message_ref == f"{DM}:{ts}"
    assert conversation == DM
    assert len(buttons(fake_slack.messages[(DM, ts)])) == 5
    await channel.stop()


async def test_the_reminder_replies_in_the_prompts_thread_and_is_kept_as_its_reminder(
    services: Services, fake_slack: FakeSlack
) -> None:
    delivery_id = await planned_scale_prompt(services)
    channel: SlackChannel = http_channel(fake_slack)
    await dispatch_once(services, {"slack": channel}, NOW, worker="w1")
    async with services.sessions() as session, session.begin():
        delivery = await session.get(Delivery, delivery_id)
        assert delivery is not None
        delivery.remind_at, delivery.expires_at = NOW, NOW + timedelta(days=2)

    reminded = await remind_once(services, {"slack": channel}, NOW, worker="w1")

    assert reminded == 1
    _prompt, reminder = fake_slack.posted()
    delivery, _identity = await stored(services, delivery_id)
    assert reminder["thread_ts"] == delivery.message_ref.split(":")[1]  # type: ignore[union-attr]
    assert reminder["reply_broadcast"] is True
    assert delivery.reminder_ref in {f"{c}:{ts}" for c, ts in fake_slack.messages}
    assert delivery.reminder_ref != delivery.message_ref
    await channel.stop()


async def test_a_deleted_slack_user_fails_the_delivery_and_marks_the_identity_unreachable(
    services: Services, fake_slack: FakeSlack
) -> None:
    delivery_id = await planned_scale_prompt(services)
    fake_slack.fail("conversations.open", "user_not_found")
    channel: SlackChannel = http_channel(fake_slack)

    await dispatch_once(services, {"slack": channel}, NOW, worker="w1")

    delivery, identity = await stored(services, delivery_id)
    assert delivery.status == "failed"
    assert "user_not_found" in (delivery.last_error or "")
    assert identity.status == "unreachable"
    assert fake_slack.posted() == []
    await channel.stop()


async def test_a_rate_limited_send_goes_back_to_the_queue_for_later(
    services: Services, fake_slack: FakeSlack
) -> None:
    delivery_id = await planned_scale_prompt(services)
    fake_slack.rate_limit("chat.postMessage", retry_after=120)
    channel: SlackChannel = http_channel(fake_slack)

    await dispatch_once(services, {"slack": channel}, NOW, worker="w1")

    delivery, identity = await stored(services, delivery_id)
    assert delivery.status == "planned"
    assert delivery.due_at >= NOW + timedelta(seconds=120)
    assert identity.status == "active"
    await channel.stop()


async def test_a_connection_dropped_after_slack_took_the_prompt_gives_exactly_one_post(
    services: Services, fake_slack: FakeSlack
) -> None:
    delivery_id = await planned_scale_prompt(services)
    fake_slack.drop_after("chat.postMessage")
    channel: SlackChannel = http_channel(fake_slack)

    assert await dispatch_once(services, {"slack": channel}, NOW, worker="w1") == 0
    assert len(fake_slack.posted()) == 1  # posted, and the SDK did not post it again
    delivery, _identity = await stored(services, delivery_id)
    assert delivery.status == "planned"  # outcome unknown: carbot's own retry decides
    later = delivery.due_at + timedelta(seconds=1)

    assert await dispatch_once(services, {"slack": channel}, later, worker="w1") == 1

    [(conversation, ts)] = fake_slack.messages
    assert len(fake_slack.posted()) == 1  # found in the DM's history, not posted again
    delivery, _identity = await stored(services, delivery_id)
    assert delivery.status == "sent"
    assert delivery.message_ref == f"{conversation}:{ts}"
    await channel.stop()


async def test_a_retried_prompt_that_never_reached_slack_is_posted_on_the_retry(
    services: Services, fake_slack: FakeSlack
) -> None:
    delivery_id = await planned_scale_prompt(services)
    fake_slack.fail("chat.postMessage", "internal_error")
    channel: SlackChannel = http_channel(fake_slack)
    await dispatch_once(services, {"slack": channel}, NOW, worker="w1")
    delivery, _identity = await stored(services, delivery_id)

    await dispatch_once(
        services, {"slack": channel}, delivery.due_at + timedelta(seconds=1), worker="w1"
    )

    assert len(fake_slack.calls_to("conversations.history")) == 1  # looked first
    [first, second] = fake_slack.posted()
    assert second["metadata"] == first["metadata"]
    assert second["metadata"]["event_payload"]["delivery_id"] == delivery_id
    assert len(fake_slack.messages) == 1
    delivery, _identity = await stored(services, delivery_id)
    assert delivery.status == "sent"
    await channel.stop()


async def test_a_prompt_posted_by_a_worker_killed_before_its_commit_is_not_posted_again(
    services: Services, fake_slack: FakeSlack
) -> None:
    delivery_id = await planned_scale_prompt(services)
    channel: SlackChannel = http_channel(fake_slack)

    async def die_after_posting(session: Any) -> None:
        # what a worker killed in the at-least-once window leaves: the post made, the row
        # still "sending" under its lease, its one attempt counted
        delivery = await session.get(Delivery, delivery_id)
        delivery.status, delivery.lease_owner, delivery.attempts = "sending", "dead", 1
        delivery.lease_until = NOW + timedelta(minutes=2)

    await seed(services, die_after_posting)
    async with services.sessions() as session:
        identity = await session.scalar(select(ChannelIdentity))
        assert identity is not None
    await channel.send_prompt(recipient(identity), OutboundPrompt(delivery_id, "scale", "How?"))

    later = NOW + timedelta(minutes=3)
    assert await dispatch_once(services, {"slack": channel}, later, worker="w2") == 1

    [(conversation, ts)] = fake_slack.messages
    assert len(fake_slack.posted()) == 1
    delivery, _identity = await stored(services, delivery_id)
    assert (delivery.status, delivery.message_ref) == ("sent", f"{conversation}:{ts}")
    await channel.stop()
