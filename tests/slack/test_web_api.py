"""Sending through the Web API: rate limits, pacing and errors, against the fake Slack."""

from __future__ import annotations

import pytest

from adapters.base import OutboundPrompt, OutboundText, Recipient
from adapters.errors import DeliveryError
from adapters.slack import SlackChannel
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.slack.conftest import BOT_TOKEN, http_channel
from tests.slack.payloads import DM, USER

ALEX = Recipient(identity_id=7, external_id=USER, workspace=TEAM)
SAM = Recipient(identity_id=8, external_id="U0SAM", workspace=TEAM)
PROMPT = OutboundPrompt(delivery_id=3, kind="text", text="What did you try this week?")


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def channel(fake_slack: FakeSlack, sleeps: Sleeps):  # type: ignore[no-untyped-def]
    made = http_channel(fake_slack, sleep=sleeps)
    yield made
    await made.stop()


async def test_a_429_is_waited_out_for_as_long_as_retry_after_says(
    channel: SlackChannel, fake_slack: FakeSlack, sleeps: Sleeps
) -> None:
    fake_slack.rate_limit("chat.postMessage", retry_after=7)

    ref = await channel.send_prompt(ALEX, PROMPT)

    assert ref.ref.startswith(f"{DM}:")
    assert sleeps == [7]
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


async def test_a_429_that_persists_becomes_a_transient_error_with_retry_after(
    channel: SlackChannel, fake_slack: FakeSlack, sleeps: Sleeps
) -> None:
    fake_slack.rate_limit("chat.postMessage", retry_after=3, times=5)

    with pytest.raises(DeliveryError) as caught:
        await channel.send_prompt(ALEX, PROMPT)

    assert caught.value.permanent is False
    assert caught.value.retry_after == 3
    assert sleeps == [3, 3]


async def test_a_long_retry_after_is_handed_back_to_dispatch_instead_of_waited_out(
    channel: SlackChannel, fake_slack: FakeSlack, sleeps: Sleeps
) -> None:
    fake_slack.rate_limit("chat.postMessage", retry_after=600)

    with pytest.raises(DeliveryError) as caught:
        await channel.send_text(ALEX, OutboundText("hello"))

    assert caught.value.retry_after == 600
    assert sleeps == []


@pytest.mark.parametrize(
    "error",
    ["user_not_found", "account_inactive", "channel_not_found", "not_in_channel", "is_archived"],
)
async def test_a_gone_user_or_conversation_is_a_permanent_delivery_error(
    channel: SlackChannel, fake_slack: FakeSlack, error: str
) -> None:
    method = (
        "conversations.open"
        if error in ("user_not_found", "account_inactive")
        else ("chat.postMessage")
    )
    fake_slack.fail(method, error)

    with pytest.raises(DeliveryError) as caught:
        await channel.send_prompt(ALEX, PROMPT)

    assert caught.value.permanent is True
    assert error in str(caught.value)


async def test_other_slack_errors_are_transient(
    channel: SlackChannel, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.postMessage", "internal_error")

    with pytest.raises(DeliveryError) as caught:
        await channel.send_prompt(ALEX, PROMPT)

    assert caught.value.permanent is False


async def test_an_unreachable_slack_is_a_transient_delivery_error(fake_slack: FakeSlack) -> None:
    channel = SlackChannel(
        bot_token=BOT_TOKEN,
        mode="http",
        signing_secret="s",
        api_base_url="http://127.0.0.1:9/api/",
    )
    with pytest.raises(DeliveryError) as caught:
        await channel.send_text(ALEX, OutboundText("hello"))
    assert caught.value.permanent is False
    await channel.stop()


async def test_posts_to_one_conversation_are_paced_to_one_a_second_but_others_are_not_held_up(
    fake_slack: FakeSlack, sleeps: Sleeps
) -> None:
    channel = http_channel(fake_slack, sleep=sleeps, post_interval=1.0)

    await channel.send_prompt(ALEX, PROMPT)
    await channel.send_prompt(SAM, PROMPT)
    assert sleeps == []
    await channel.send_text(ALEX, OutboundText("And a reminder"))

    [wait] = sleeps
    assert 0 < wait <= 1.0
    assert len(fake_slack.posted()) == 3
    await channel.stop()


async def test_the_dm_conversation_is_opened_once_per_person(
    channel: SlackChannel, fake_slack: FakeSlack
) -> None:
    await channel.send_prompt(ALEX, PROMPT)
    await channel.send_text(ALEX, OutboundText("Saved."))

    assert len(fake_slack.calls_to("conversations.open")) == 1
    assert len(fake_slack.posted()) == 2


async def test_the_bot_token_is_never_sent_to_a_host_that_is_not_slack(
    channel: SlackChannel,
) -> None:
    with pytest.raises(DeliveryError):
        await channel.api.download("https://evil.example/steal", 1000)
