"""Every button's value: one action protocol, read the same on every channel, old buttons too."""

from __future__ import annotations

import pytest

from adapters import actions
from adapters.actions import (
    Consent,
    FileNote,
    Heard,
    Pause,
    Pick,
    Resume,
    SetAudience,
    Tap,
    Withdraw,
    Write,
    decode,
    encode,
    pack,
    unpack,
)
from adapters.base import Choice
from adapters.numbers import INT32_MAX
from adapters.slack import blocks as kit
from adapters.telegram import messages
from bot.core import texts

EVERY_ACTION = [
    Consent(agreed=True),
    Consent(agreed=False),
    Withdraw(erase=False),
    Withdraw(erase=True),
    SetAudience("team"),
    SetAudience("researchers", last=True),
    FileNote("fife-family-hub"),
    Heard(12, right=True),
    Heard(12, right=False),
    Pause("1 week"),
    Pause("2 weeks"),
    Resume(),
    Write(),
    Pick("4"),
    Pick("more_time"),
]


@pytest.mark.parametrize("action", EVERY_ACTION, ids=repr)
def test_every_action_reads_back_as_itself(action: actions.Action) -> None:
    assert decode(encode(action)) == action


@pytest.mark.parametrize(
    ("value", "action"),
    [
        ("consent:yes", Consent(agreed=True)),
        ("consent:no", Consent(agreed=False)),
        ("withdraw:keep", Withdraw(erase=False)),
        ("withdraw:erase", Withdraw(erase=True)),
        ("audience:team", SetAudience("team")),
        ("audience:team_anonymous:last", SetAudience("team_anonymous", last=True)),
        ("project:fife-family-hub", FileNote("fife-family-hub")),
        ("heard:12:yes", Heard(12, right=True)),
        ("heard:12:no", Heard(12, right=False)),
        ("heard:12:maybe", Heard(12, right=None)),
        ("heard:²:yes", Heard(None, right=True)),
        ("3", Pick("3")),
        ("withdraw:later", Pick("withdraw:later")),
        ("consent", Pick("consent")),
        ("pause:2 weeks", Pause("2 weeks")),
        ("pause:", Pick("pause:")),
        ("resume:now", Resume()),
        ("resume", Pick("resume")),  # an App Home's Resume button before actions
        ("answer:own-words", Write()),
    ],
)
def test_a_value_carbot_sent_before_reads_as_the_same_action(
    value: str, action: actions.Action
) -> None:
    assert decode(value) == action


def test_no_value_is_no_action() -> None:
    assert decode(None) is None and decode("  ") is None


def test_the_buttons_the_core_offers_are_the_values_people_already_have() -> None:
    assert [c.value for c in texts.consent_choices()] == ["consent:yes", "consent:no"]
    assert [c.value for c in texts.withdrawal_choices()] == ["withdraw:keep", "withdraw:erase"]
    assert [c.value for c in texts.audience_choices(last=True)] == [
        "audience:private:last",
        "audience:researchers:last",
        "audience:team_anonymous:last",
        "audience:team:last",
    ]
    assert [c.value for c in texts.heard_choices(7)] == ["heard:7:yes", "heard:7:no"]
    assert [c.value for c in texts.project_choices([("hub", "Hub")])] == ["project:hub"]


@pytest.mark.parametrize(
    ("data", "tap"),
    [
        ("31|4", Tap("4", 31)),  # a Telegram prompt button
        ("|consent:yes", Tap("consent:yes")),  # a Telegram reply button
        ('{"v":"4","d":41}', Tap("4", 41)),  # a Slack prompt button sent before pack()
        ('{"v":"audience:team"}', Tap("audience:team")),  # a Slack reply button, likewise
        ("41|heard:3:no", Tap("heard:3:no", 41)),
    ],
)
def test_a_button_already_in_someones_chat_still_reads_the_same(data: str, tap: Tap) -> None:
    assert unpack(data) == tap


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "4",
        "31|",
        "2147483648|3",
        "²|3",
        "+1|3",
        '{"v":"4","d":2147483648}',
        '{"v":"4","d":true}',
        '{"v":"4","d":1e3}',
        '{"v":4}',
        "{not json",
    ],
)
def test_a_button_carbot_could_not_have_made_is_not_read(data: str | None) -> None:
    assert unpack(data) is None


@pytest.mark.parametrize("action", EVERY_ACTION, ids=repr)
def test_every_button_fits_telegram_and_slack_even_with_the_largest_ids(
    action: actions.Action,
) -> None:
    if isinstance(action, Heard):
        action = Heard(INT32_MAX, action.right)
    value = encode(action)
    telegram = pack(value, INT32_MAX)
    slack = kit.choice_value(value, INT32_MAX)
    assert len(telegram.encode()) <= actions.TELEGRAM_LIMIT
    assert len(slack) <= actions.SLACK_LIMIT
    assert unpack(telegram) == unpack(slack) == Tap(value, INT32_MAX)


def test_a_value_over_a_platforms_limit_is_refused_not_cut() -> None:
    with pytest.raises(ValueError, match="too long"):
        messages.keyboard(31, (Choice("é" * 31, "e"),))  # 34 characters, 65 bytes
    assert kit.choice_value("é" * 31, 31)  # Slack counts characters: it fits there
    with pytest.raises(ValueError, match="too long"):
        kit.choice_value("x" * 2000, 31)


def test_a_pause_button_says_how_long() -> None:
    with pytest.raises(ValueError, match="how long"):
        encode(Pause(" "))
