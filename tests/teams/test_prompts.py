"""Prompts go out as Adaptive Cards through the fake Bot Connector; answers come back as taps,
text typed on the card, messages and files; the answered card is redrawn without its buttons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from adapters.base import OutboundPrompt, Recipient
from bot.engine.dispatch import dispatch_once
from bot.services import Services
from storage.models import Attachment, ChannelIdentity, Delivery, Reflection
from tests.fakes.teams_connector import TENANT, FakeConnector
from tests.support.participants import make_delivery, make_person, make_project, seed
from tests.teams.conftest import ALEX, Teams, activity, buttons, card_of, shown

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
CHOICES = [{"value": "calls", "label": "Phone calls"}, {"value": "visits", "label": "Home visits"}]


async def planned(services: Services, kind: str, **extra: Any) -> int:
    async def build(session):  # type: ignore[no-untyped-def]
        rows = await make_project(session)
        person, identity = await make_person(
            session,
            rows.project,
            name="Alex Reid",
            channel="teams",
            workspace=TENANT,
            external_id=ALEX,
            now=NOW,
        )
        delivery = await make_delivery(
            session,
            person,
            rows,
            sent_at=NOW - timedelta(minutes=5),
            kind=kind,
            status="planned",
            identity=identity,
            **extra,
        )
        return delivery.id

    return int(await seed(services, build))


async def dispatched(teams: Teams, kind: str, **extra: Any) -> Delivery:
    delivery_id = await planned(teams.services, kind, **extra)
    assert await dispatch_once(teams.services, {"teams": teams.channel}, NOW, worker="w1") == 1
    return await stored(teams.services, delivery_id)


async def stored(services: Services, delivery_id: int) -> Delivery:
    async with services.sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
    assert delivery is not None
    return delivery


async def reflections(services: Services) -> list[Reflection]:
    async with services.sessions() as session:
        return list(await session.scalars(select(Reflection)))


async def test_a_scale_prompt_is_a_card_with_project_phase_question_and_five_buttons(
    teams: Teams, connector: FakeConnector
) -> None:
    delivery = await dispatched(teams, "scale", text="How well does the hub reach new parents?")

    [sent] = connector.posted(ALEX)
    assert delivery.status == "sent" and delivery.message_ref == next(iter(connector.activities))
    text = shown(sent)
    assert "Family hub approach" in text and "Exploring evidence" in text
    assert "How well does the hub reach new parents?" in text
    assert [b["title"] for b in buttons(sent)] == ["1", "2", "3", "4", "5"]
    assert {b["type"] for b in buttons(sent)} == {"Action.Submit"}
    assert "1 = Not at all" in text and "5 = Very well" in text


async def test_tapping_4_stores_the_rating_and_redraws_the_card_with_the_answer(
    teams: Teams, connector: FakeConnector
) -> None:
    delivery = await dispatched(teams, "scale")
    four = buttons(connector.posted(ALEX)[0])[3]

    response = await teams.tap(four["data"], reply_to=str(delivery.message_ref))

    assert response.status_code == 200
    [reflection] = await reflections(teams.services)
    assert (reflection.scale_value, reflection.delivery_id, reflection.channel) == (
        4,
        delivery.id,
        "teams",
    )
    assert (await stored(teams.services, delivery.id)).status == "answered"
    [(updated, card)] = connector.updates()
    assert updated == delivery.message_ref
    assert buttons(card) == [] and "4" in shown(card)
    assert "What did you notice this week?" in shown(card) or delivery.prompt_text in shown(card)
    assert "Saved" in shown(connector.posted(ALEX)[-1])


async def test_a_choice_prompt_has_one_button_per_option_and_a_tap_stores_the_option(
    teams: Teams, connector: FakeConnector
) -> None:
    delivery = await dispatched(teams, "choice", text="What helped most?", options=CHOICES)
    card = connector.posted(ALEX)[0]
    assert [b["title"] for b in buttons(card)] == ["Phone calls", "Home visits"]

    await teams.tap(buttons(card)[1]["data"], reply_to=str(delivery.message_ref))

    [reflection] = await reflections(teams.services)
    assert reflection.choice == "visits"
    [(_updated, redrawn)] = connector.updates()
    assert "Home visits" in shown(redrawn) and buttons(redrawn) == []


async def test_a_text_prompt_has_an_input_box_and_the_answer_typed_there_is_stored(
    teams: Teams, connector: FakeConnector
) -> None:
    delivery = await dispatched(teams, "text")
    card = connector.posted(ALEX)[0]
    [box] = [b for b in card_of(card)["body"] if b["type"] == "Input.Text"]
    [send] = buttons(card)

    await teams.tap(
        send["data"], reply_to=str(delivery.message_ref), **{box["id"]: "Parents came back."}
    )

    [reflection] = await reflections(teams.services)
    assert (reflection.text, reflection.delivery_id) == ("Parents came back.", delivery.id)
    [(updated, redrawn)] = connector.updates()
    assert updated == delivery.message_ref and buttons(redrawn) == []
    assert "Parents came back." in shown(redrawn)


async def test_send_with_an_empty_box_stores_nothing_and_says_what_to_do(
    teams: Teams, connector: FakeConnector
) -> None:
    delivery = await dispatched(teams, "text")
    [send] = buttons(connector.posted(ALEX)[0])

    await teams.tap(send["data"], reply_to=str(delivery.message_ref), answer="  ")

    assert await reflections(teams.services) == []
    assert "Type your answer" in shown(connector.posted(ALEX)[-1])


async def test_a_plain_message_answers_the_open_text_prompt_and_its_card_loses_the_box(
    teams: Teams, connector: FakeConnector
) -> None:
    delivery = await dispatched(teams, "text")

    await teams.say("We tried a drop-in session.")

    [reflection] = await reflections(teams.services)
    assert (reflection.text, reflection.delivery_id) == ("We tried a drop-in session.", delivery.id)
    [(updated, redrawn)] = connector.updates()
    assert updated == delivery.message_ref and buttons(redrawn) == []
    assert delivery.prompt_text in shown(redrawn)


async def test_an_evidence_prompt_asks_for_a_file_and_a_file_sent_in_the_chat_is_kept(
    teams: Teams, connector: FakeConnector
) -> None:
    delivery = await dispatched(teams, "evidence", text="Send a photo of the noticeboard.")
    assert "photo" in shown(connector.posted(ALEX)[0]).lower()
    assert buttons(connector.posted(ALEX)[0]) == []
    connector.files["board.png"] = b"\x89PNG fake image"
    attachment = {
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "name": "board.png",
        "content": {"downloadUrl": connector.url + "/files/board.png", "fileType": "png"},
    }

    await teams.post(activity(connector, attachments=[attachment]))

    [reflection] = await reflections(teams.services)
    assert reflection.delivery_id == delivery.id
    async with teams.services.sessions() as session:
        [kept] = list(await session.scalars(select(Attachment)))
    assert (kept.kind, kept.filename) == ("photo", "board.png")


async def test_an_image_pasted_in_the_chat_is_fetched_with_the_bot_token(
    teams: Teams, connector: FakeConnector
) -> None:
    await dispatched(teams, "evidence")
    connector.files["img1"] = b"\x89PNG pasted"
    url = connector.service_url + "v3/attachments/img1/views/original"

    await teams.post(
        activity(connector, attachments=[{"contentType": "image/png", "contentUrl": url}])
    )

    [reflection] = await reflections(teams.services)
    assert reflection.delivery_id is not None
    [fetch] = [c for c in connector.calls if c.path.startswith("/connector/v3/attachments/")]
    assert fetch.headers["Authorization"].startswith("Bearer ")


async def test_a_file_over_the_limit_is_refused_and_nothing_is_kept(
    teams: Teams, connector: FakeConnector
) -> None:
    await dispatched(teams, "evidence")
    connector.files["big.pdf"] = b"x" * 5000
    attachment = {
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "name": "big.pdf",
        "content": {"downloadUrl": connector.url + "/files/big.pdf", "fileType": "pdf"},
    }

    await teams.post(activity(connector, attachments=[attachment]))

    assert await reflections(teams.services) == []
    assert "too big" in shown(connector.posted(ALEX)[-1]).lower()


async def test_a_reminder_replies_to_its_prompt_and_a_tap_on_it_clears_both_cards(
    teams: Teams, connector: FakeConnector
) -> None:
    delivery = await dispatched(teams, "scale")
    async with teams.services.sessions() as session:
        identity = await session.scalar(select(ChannelIdentity))
    assert identity is not None
    reminder = OutboundPrompt(
        delivery_id=delivery.id,
        kind="scale",
        text=delivery.prompt_text,
        choices=tuple(),
        reminder=True,
        reminds=delivery.message_ref,
    )
    ref = await teams.channel.send_prompt(Recipient(identity.id, ALEX, TENANT), reminder)
    sent = connector.posted(ALEX)[-1]
    assert sent["replyToId"] == delivery.message_ref
    assert "Reminder" in shown(sent)
    first = buttons(connector.posted(ALEX)[0])[0]

    await teams.tap(first["data"], reply_to=ref.ref)

    redrawn = dict(connector.updates())
    assert set(redrawn) == {delivery.message_ref, ref.ref}
    assert all(buttons(card) == [] for card in redrawn.values())
