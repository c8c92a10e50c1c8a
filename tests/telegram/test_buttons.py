"""Every Telegram button carbot can make is understood when tapped; one it did not make gets a
clear answer and changes nothing. Real PTB, fake Bot API, the core, the database."""

from __future__ import annotations

import pytest

from adapters import actions
from adapters.base import Choice, OutboundText, Recipient
from bot.core import texts
from storage.models import Person
from tests.fakes.stored import stored_data
from tests.telegram.conftest import ANA, eventually
from tests.telegram.test_with_core import World, planned, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def person(world: World) -> Person:  # noqa: F811
    async with world.services.sessions() as session:
        found = await session.get(Person, world.person.id)
    assert found is not None
    return found


async def tap(world: World, data: str) -> str:  # noqa: F811
    """Tap a button with ``data`` under a message carbot sent; what carbot said back."""
    to = Recipient(world.identity.id, str(ANA))
    ref = await world.channel.send_text(to, OutboundText("Choose", (Choice("x", "A button"),)))
    before = len(world.fake.chat(ANA))
    update = world.fake.add_update(world.fake.tap(ANA, int(ref.ref.split(":")[1]), data))
    await eventually(lambda: world.fake.confirmed_offset > update["update_id"])  # handled
    said = world.fake.chat(ANA)[before:]
    if said:
        return said[-1].text
    return str(world.fake.calls_to("answerCallbackQuery")[-1].params.get("text") or "")


async def test_a_reply_button_for_each_standing_change_does_what_it_says(
    world: World,  # noqa: F811
) -> None:
    pause = actions.pack(actions.encode(actions.Pause("1 week")))
    resume = actions.pack(actions.encode(actions.Resume()))
    audience = actions.pack(actions.encode(actions.SetAudience("researchers")))

    assert "paus" in (await tap(world, pause)).lower()
    assert (await person(world)).paused_until is not None
    await tap(world, resume)
    assert (await person(world)).paused_until is None
    await tap(world, audience)
    assert (await person(world)).default_audience == "researchers"


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        ("|frobnicate", actions.UNREADABLE),  # a value carbot has never put on a reply
        ("|4", actions.UNREADABLE),  # a prompt's value without its prompt
        ("|answer:own-words", texts.EMPTY),
        ("|pause:forever", "Pause until when?"),
        ("drop table;", actions.UNREADABLE),
    ],
)
async def test_a_button_carbot_did_not_make_is_answered_and_changes_nothing(
    world: World,  # noqa: F811
    data: str,
    answer: str,
) -> None:
    await planned(world, "scale")
    assert await world.dispatch() == 1  # an open prompt the tap must not answer
    before = await stored_data(world.services)

    said = await tap(world, data)

    assert said.startswith(answer)
    if answer == actions.UNREADABLE:  # the message tapped is left as it was, to tap again
        assert [m.buttons != [] for m in world.fake.chat(ANA) if m.text == "Choose"] == [True]
    assert await stored_data(world.services) == before
