"""Every web chat button is understood when tapped; a value carbot did not put on one gets a
clear answer and changes nothing. The page's own form post → the core → the database."""

from __future__ import annotations

import pytest

from adapters import actions
from bot.core import texts
from storage.models import Person
from tests.fakes.stored import stored_data
from tests.webchat.test_page import Page, page  # noqa: F401  (fixture)


async def test_the_scale_buttons_on_the_page_answer_the_open_prompt(page: Page) -> None:  # noqa: F811
    html = (await page.client.get(page.url)).text
    assert f'data-delivery="{page.delivery.id}"' in html and 'data-value="4"' in html

    reply = (await page.send(choice="4", delivery_id=str(page.delivery.id))).json()

    assert reply["answered"]["delivery_id"] == page.delivery.id
    assert "Quite well" in reply["answered"]["label"]


async def test_a_pause_and_a_resume_action_do_what_they_say(page: Page) -> None:  # noqa: F811
    pause = actions.encode(actions.Pause("1 week"))
    resume = actions.encode(actions.Resume())

    await page.send("evt-00000001", choice=pause)
    async with page.services.sessions() as session:
        paused = await session.get(Person, page.person.id)
        assert paused is not None and paused.paused_until is not None
    await page.send("evt-00000002", choice=resume)
    async with page.services.sessions() as session:
        resumed = await session.get(Person, page.person.id)
        assert resumed is not None and resumed.paused_until is None


@pytest.mark.parametrize(
    ("choice", "answer"),
    [
        ("4", actions.UNREADABLE),  # a prompt's value without the prompt it answers
        ("frobnicate", actions.UNREADABLE),
        ("answer:own-words", texts.EMPTY),
        ("pause:forever", "Pause until when?"),
    ],
)
async def test_a_value_carbot_did_not_put_on_a_button_is_answered_and_changes_nothing(
    page: Page,  # noqa: F811
    choice: str,
    answer: str,
) -> None:
    before = await stored_data(page.services)

    response = await page.send(choice=choice)

    assert response.status_code == 200
    assert response.json()["replies"][0]["text"].startswith(answer)
    assert await stored_data(page.services) == before
