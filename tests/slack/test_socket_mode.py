"""Socket Mode end to end: carbot dials out to the fake Slack and answers over the websocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from adapters.base import InboundResult, OutboundText
from adapters.errors import DeliveryError
from adapters.slack import SlackChannel
from bot.clock import FrozenClock
from bot.core import Conversation
from bot.services import Services
from storage.models import Reflection
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import APP_TOKEN, BOT_TOKEN, NOW, RecordingHandler, make_alex
from tests.slack.payloads import (
    DM,
    USER,
    block_actions_payload,
    command_payload,
    dm_event,
    event_payload,
)
from tests.support.participants import seed


@pytest.fixture
async def socket_channel(
    fake_slack: FakeSlack, recorder: RecordingHandler
) -> AsyncIterator[SlackChannel]:
    channel = SlackChannel(
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        api_base_url=fake_slack.base_url,
        post_interval=0,
    )
    await channel.start(recorder)
    yield channel
    await channel.stop()


async def settled(channel: SlackChannel) -> None:
    await channel.acks.settle()


async def test_socket_mode_opens_a_connection_with_the_app_token(
    socket_channel: SlackChannel, fake_slack: FakeSlack
) -> None:
    await asyncio.wait_for(fake_slack.connected.wait(), 10)

    [opened] = fake_slack.calls_to("apps.connections.open")
    assert opened.token == APP_TOKEN
    assert socket_channel.mounts() == {}


async def test_a_dm_pushed_over_the_socket_is_acknowledged_handled_and_answered(
    socket_channel: SlackChannel, fake_slack: FakeSlack, recorder: RecordingHandler
) -> None:
    recorder.reply = lambda m: InboundResult(replies=[OutboundText("Saved.")])

    envelope = await fake_slack.push("events_api", event_payload(dm_event("By socket"), "EvS1"))
    await fake_slack.ack_for(envelope)
    await settled(socket_channel)

    [message] = recorder.messages
    assert (message.event_id, message.text) == ("EvS1", "By socket")
    [posted] = fake_slack.posted()
    assert (posted["channel"], posted["text"]) == (DM, "Saved.")


async def test_an_event_redelivered_over_the_socket_is_handled_once(
    socket_channel: SlackChannel, fake_slack: FakeSlack, recorder: RecordingHandler
) -> None:
    payload = event_payload(dm_event("Twice sent"), "EvS2")

    first = await fake_slack.push("events_api", payload)
    await fake_slack.ack_for(first)
    again = await fake_slack.push("events_api", payload, retry_attempt=1)
    await fake_slack.ack_for(again)
    await settled(socket_channel)

    assert [m.event_id for m in recorder.messages] == ["EvS2"]


async def test_a_tap_and_a_slash_command_over_the_socket_are_acknowledged(
    socket_channel: SlackChannel, fake_slack: FakeSlack, recorder: RecordingHandler
) -> None:
    recorder.reply = lambda m: InboundResult(replies=[OutboundText("Here is your status.")])
    tap = block_actions_payload(
        {
            "type": "button",
            "action_id": "carbot_choice_0",
            "value": '{"v":"consent:yes"}',
            "text": {"type": "plain_text", "text": "I agree"},
        },
        message={"type": "message", "ts": "1.5", "text": "Consent?", "blocks": []},
        container={"type": "message", "message_ts": "1.5", "channel_id": DM, "is_ephemeral": False},
    )

    tapped = await fake_slack.push("interactive", tap)
    await fake_slack.ack_for(tapped)
    command = await fake_slack.push("slash_commands", command_payload("status"))
    ack = await fake_slack.ack_for(command)
    await settled(socket_channel)

    assert [(m.choice, m.command) for m in recorder.messages] == [
        ("consent:yes", None),
        (None, "status"),
    ]
    assert ack["payload"]["text"] == "Here is your status."
    assert recorder.messages[0].external_id == USER


async def test_an_answer_sent_over_the_socket_is_stored_by_the_core(
    fake_slack: FakeSlack, services: Services
) -> None:
    await seed(services, make_alex)
    channel = SlackChannel(
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        api_base_url=fake_slack.base_url,
        post_interval=0,
    )
    await channel.start(Conversation(services.with_clock(FrozenClock(NOW))).handle)

    envelope = await fake_slack.push(
        "events_api", event_payload(dm_event("Parents want a Saturday session"), "EvCore")
    )
    await fake_slack.ack_for(envelope)
    await settled(channel)
    await channel.stop()

    async with services.sessions() as session:
        [reflection] = await session.scalars(select(Reflection))
    assert reflection.text == "Parents want a Saturday session"
    assert reflection.channel == "slack"
    assert "Saved" in fake_slack.posted()[-1]["text"]


async def test_a_refused_app_token_stops_start_with_a_clear_error(
    fake_slack: FakeSlack, recorder: RecordingHandler
) -> None:
    fake_slack.fail("apps.connections.open", "invalid_auth")
    channel = SlackChannel(
        bot_token=BOT_TOKEN, app_token="xapp-wrong", api_base_url=fake_slack.base_url
    )

    with pytest.raises(DeliveryError, match="Socket Mode connection: invalid_auth") as caught:
        await channel.start(recorder)

    assert caught.value.permanent is True
    await channel.stop()


async def test_a_refused_bot_token_stops_start_with_a_clear_error(
    fake_slack: FakeSlack, recorder: RecordingHandler
) -> None:
    fake_slack.fail("auth.test", "invalid_auth")
    channel = SlackChannel(
        bot_token="xoxb-wrong", app_token=APP_TOKEN, api_base_url=fake_slack.base_url
    )

    with pytest.raises(DeliveryError, match="bot token was refused"):
        await channel.start(recorder)

    assert fake_slack.calls_to("apps.connections.open") == []
    await channel.stop()
