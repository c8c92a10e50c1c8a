"""Every Teams card button carbot makes is understood when tapped; one it did not make gets a
clear answer and changes nothing. The fake Bot Connector → the real Teams SDK → the core."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.actions import UNREADABLE, Consent, Pick, Write, pack, unpack
from adapters.base import Choice, OutboundText
from adapters.teams.cards import reply_card
from bot.core import texts
from tests.fakes.stored import stored_data
from tests.fakes.teams_connector import FakeConnector
from tests.teams.conftest import ALEX, Teams, buttons, shown, tapped
from tests.teams.test_prompts import CHOICES, dispatched

NO_LONGER_WORKS = "That button no longer works"


@pytest.mark.parametrize(
    ("kind", "extra", "actions"),
    [
        ("scale", {}, [Pick(str(n)) for n in range(1, 6)]),
        ("choice", {"options": CHOICES}, [Pick("calls"), Pick("visits")]),
        ("text", {}, [Write()]),
    ],
)
async def test_each_prompt_button_names_its_prompt_and_what_it_answers(
    teams: Teams, connector: FakeConnector, kind: str, extra: dict[str, Any], actions: list[Any]
) -> None:
    delivery = await dispatched(teams, kind, **extra)

    card = connector.posted(ALEX)[0]

    assert [tapped(b) for b in buttons(card)] == actions
    assert {unpack(b["data"]["carbot"]).delivery_id for b in buttons(card)} == {delivery.id}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        ({"carbot": "4"}, NO_LONGER_WORKS),  # no prompt, no separator: not a value carbot makes
        ({"carbot": "12|"}, NO_LONGER_WORKS),
        ({"carbot": "+12|4"}, NO_LONGER_WORKS),
        ({"carbot": "2147483648|4"}, NO_LONGER_WORKS),
        ({"carbot": "answer", "delivery": 12, "value": "4"}, NO_LONGER_WORKS),  # before actions
        ({"carbot": ""}, NO_LONGER_WORKS),
        ({"carbot": "|answer:own-words"}, "Type your answer"),  # Send, with no prompt or words
    ],
    ids=["bare", "no-value", "signed-id", "huge-id", "old-card", "empty", "send-nothing"],
)
async def test_a_card_button_carbot_did_not_make_is_answered_and_changes_nothing(
    teams: Teams, connector: FakeConnector, data: dict[str, Any], answer: str
) -> None:
    delivery = await dispatched(teams, "scale")
    before = await stored_data(teams.services)

    response = await teams.tap(data, reply_to=str(delivery.message_ref))

    assert response.status_code == 200
    assert answer in shown(connector.posted(ALEX)[-1])
    assert connector.updates() == []
    assert await stored_data(teams.services) == before


async def test_a_tap_naming_a_prompt_that_is_not_theirs_is_refused_and_stores_nothing(
    teams: Teams, connector: FakeConnector
) -> None:
    delivery = await dispatched(teams, "scale")
    before = await stored_data(teams.services)

    await teams.tap({"carbot": pack("4", delivery.id + 1000)}, reply_to="f:unknown")

    assert shown(connector.posted(ALEX)[-1]) == texts.FORGED_DELIVERY
    assert await stored_data(teams.services) == before
    assert connector.updates() == []


def test_a_reply_button_carries_its_action_and_its_label() -> None:
    card = reply_card(OutboundText("Agree?", (Choice("consent:yes", "I agree"),)))

    [button] = card.model_dump(by_alias=True, exclude_none=True)["actions"]
    assert tapped(button) == Consent(agreed=True)
    assert button["data"]["label"] == "I agree"


async def test_a_reply_button_with_a_value_carbot_never_offers_is_refused_and_left_in_place(
    teams: Teams, connector: FakeConnector
) -> None:
    await dispatched(teams, "scale")
    before = await stored_data(teams.services)

    await teams.tap({"carbot": "|frobnicate", "label": "A button"}, reply_to="f:a-reply")

    assert shown(connector.posted(ALEX)[-1]) == UNREADABLE
    assert connector.updates() == []
    assert await stored_data(teams.services) == before
