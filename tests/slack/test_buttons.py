"""Every Slack button carbot makes is understood when tapped; one it did not make gets a clear
answer and changes nothing. Signed requests → the real Bolt app → the core → the database."""

from __future__ import annotations

from typing import Any

import pytest

from adapters import actions
from adapters.base import Choice, OutboundPrompt, OutboundText
from bot.channels.slack import home_view_for
from bot.clock import FrozenClock
from bot.core import Conversation
from bot.services import Services
from storage.models import Person
from tests.fakes.slack_api import FakeSlack
from tests.fakes.stored import stored_data
from tests.slack.conftest import NOW, MakeSlack, make_alex
from tests.slack.payloads import (
    DM,
    USER,
    SlackRequests,
    block_actions_payload,
    buttons,
    prompt_tap,
    shown_text,
)
from tests.slack.test_with_core import ALEX
from tests.support.participants import seed

NO_LONGER_WORKS = "That button no longer works"


@pytest.fixture
async def slack(make_slack: MakeSlack, services: Services) -> SlackRequests:
    """A channel on the real core, with the real App Home."""
    frozen = services.with_clock(FrozenClock(NOW))

    async def home(team: str | None, user: str):  # type: ignore[no-untyped-def]
        return await home_view_for(frozen, team, user)

    return await make_slack(Conversation(frozen).handle, home_provider=home)


@pytest.fixture
async def alex(services: Services):  # type: ignore[no-untyped-def]
    return await seed(services, make_alex)


async def open_home(slack: SlackRequests, fake_slack: FakeSlack) -> dict[str, Any]:
    await slack.event({"type": "app_home_opened", "user": USER, "tab": "home"})
    return fake_slack.homes[USER]


def home_button(home: dict[str, Any], label: str) -> dict[str, Any]:
    [button] = [b for b in buttons(home) if b["text"]["text"] == label]
    return {k: button[k] for k in ("type", "action_id", "value", "text")}


def audience_option(home: dict[str, Any], label: str) -> dict[str, Any]:
    [block] = [b for b in home["blocks"] if b.get("block_id") == "home_audience"]
    select = block["accessory"]
    [option] = [o for o in select["options"] if o["text"]["text"] == label]
    return {"type": "static_select", "action_id": select["action_id"], "selected_option": option}


async def paused_until(services: Services, person_id: int):  # type: ignore[no-untyped-def]
    async with services.sessions() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        return person.paused_until


def whispered(fake_slack: FakeSlack) -> list[str]:
    """What carbot told someone that only they can see."""
    return [str(call.params["text"]) for call in fake_slack.calls_to("chat.postEphemeral")]


async def test_each_app_home_control_does_what_it_says(
    slack: SlackRequests,
    services: Services,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    person = alex[1]
    home = await open_home(slack, fake_slack)

    await slack.interact(block_actions_payload(home_button(home, "Pause 1 week")))
    assert await paused_until(services, person.id) is not None
    home = fake_slack.homes[USER]
    assert "Paused until" in shown_text(home)

    await slack.interact(block_actions_payload(home_button(home, "Resume now")))
    assert await paused_until(services, person.id) is None
    home = fake_slack.homes[USER]
    assert "Pause 2 weeks" in shown_text(home)

    await slack.interact(block_actions_payload(audience_option(home, "Only me")))
    chosen = [b for b in fake_slack.homes[USER]["blocks"] if b.get("block_id") == "home_audience"]
    assert chosen[0]["accessory"]["initial_option"]["text"]["text"] == "Only me"
    assert whispered(fake_slack) == []


@pytest.mark.parametrize(
    "control",
    [
        {"action_id": "carbot_home_pause_1w", "value": "1 week"},  # an App Home before actions
        {"action_id": "carbot_home_pause_1w", "value": "|pause:1 week"},
        {"action_id": "carbot_home_resume", "value": "resume"},
        {"action_id": "carbot_home_pause_2w", "value": "consent:no"},
        {"action_id": "carbot_home_audience", "selected_option": {"value": "withdraw:erase"}},
    ],
    ids=["old-pause", "packed", "old-resume", "consent", "erase"],
)
async def test_an_app_home_control_carbot_did_not_make_is_answered_and_changes_nothing(
    slack: SlackRequests,
    services: Services,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
    control: dict[str, Any],
) -> None:
    before = await stored_data(services)

    response = await slack.interact(block_actions_payload({"type": "button", **control}))

    assert response.status_code == 200
    [told] = whispered(fake_slack)
    assert NO_LONGER_WORKS in told
    assert "Pause 1 week" in shown_text(fake_slack.homes[USER])  # shown again, as it is
    assert fake_slack.posted() == []
    assert await stored_data(services) == before


async def test_a_pause_for_a_span_carbot_cannot_read_asks_until_when_and_pauses_nothing(
    slack: SlackRequests,
    services: Services,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    before = await stored_data(services)
    forged = {"type": "button", "action_id": "carbot_home_pause_1w", "value": "pause:forever"}

    await slack.interact(block_actions_payload(forged))

    assert "Pause until when?" in fake_slack.posted()[-1]["text"]
    assert await paused_until(services, alex[1].id) is None
    assert await stored_data(services) == before


async def text_prompt_tap(slack: SlackRequests, fake_slack: FakeSlack, value: str | None):  # type: ignore[no-untyped-def]
    """A tap on the Answer button of a text prompt carbot sent (carrying ``value`` instead of
    its own, if given)."""
    prompt = OutboundPrompt(delivery_id=58, kind="text", text="What surprised you this week?")
    ts = (await slack.channel.send_prompt(ALEX, prompt)).ref.split(":")[1]
    [answer] = buttons(fake_slack.messages[(DM, ts)])
    if value is not None:
        answer = {**answer, "value": value}
    return prompt_tap(fake_slack, ts, answer)


@pytest.mark.parametrize("value", [None, "58"], ids=["now", "sent-before-actions"])
async def test_the_answer_button_opens_the_box_for_its_prompt(
    slack: SlackRequests,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
    value: str | None,
) -> None:
    await slack.interact(await text_prompt_tap(slack, fake_slack, value))

    [opened] = fake_slack.calls_to("views.open")
    assert '"d":58' in opened.params["view"]["private_metadata"]
    assert whispered(fake_slack) == []


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("carbot_answer", "|answer:own-words"),  # an Answer button naming no prompt
        ("carbot_answer", "58|4"),
        ("carbot_answer", "answer"),
        ("carbot_answer", "0"),
        ("carbot_choice_0", "4"),  # a choice button without its prompt
        ("carbot_choice_0", "58|"),
        ("carbot_choice_0", '{"v":4}'),
        ("carbot_choice_0", "+1|4"),
    ],
)
async def test_a_prompt_button_carbot_did_not_make_is_answered_and_changes_nothing(
    slack: SlackRequests,
    services: Services,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
    action_id: str,
    value: str,
) -> None:
    tap = await text_prompt_tap(slack, fake_slack, value)
    tap["actions"][0]["action_id"] = action_id
    before = await stored_data(services)

    await slack.interact(tap)

    [told] = whispered(fake_slack)
    assert NO_LONGER_WORKS in told
    assert fake_slack.calls_to("views.open") == []
    assert fake_slack.calls_to("chat.update") == []
    assert await stored_data(services) == before


async def test_a_reply_button_with_a_value_carbot_never_offers_is_refused_and_left_in_place(
    slack: SlackRequests,
    services: Services,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    ref = await slack.channel.send_text(ALEX, OutboundText("Choose", (Choice("x", "A button"),)))
    ts = ref.ref.split(":")[1]
    [button] = buttons(fake_slack.messages[(DM, ts)])
    before = await stored_data(services)

    await slack.interact(prompt_tap(fake_slack, ts, {**button, "value": "|frobnicate"}))

    assert fake_slack.posted()[-1]["text"] == actions.UNREADABLE
    assert fake_slack.calls_to("chat.update") == []
    assert await stored_data(services) == before
