"""Which delivery a message answers, and what is stored with it."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from adapters.base import InboundAttachment
from storage.models import Attachment, Delivery, InboundEvent, Reflection
from tests.core.conftest import NOW, World
from tests.support.participants import make_delivery, make_person, make_project


async def _delivery(world: World, hours_ago: float = 1, **kwargs: object) -> Delivery:
    async with world.services.sessions() as session, session.begin():
        return await make_delivery(
            session,
            world.person,
            world.rows,
            sent_at=NOW - timedelta(hours=hours_ago),
            **kwargs,  # type: ignore[arg-type]
        )


async def test_tapping_a_scale_value_answers_that_prompt_with_its_full_context(
    any_world: World,
) -> None:
    world = any_world
    delivery = await _delivery(world, kind="scale", message_ref="webchat:7")

    result = await world.channel.tap(world.who, "4", delivery_id=delivery.id)

    assert result.answered is not None
    assert (result.answered.delivery_id, result.answered.message_refs) == (
        delivery.id,
        ("webchat:7",),
    )
    assert result.answered.label == "4 — Quite well"
    assert world.channel.unique_reply().text.startswith(
        "Saved to Family hub approach · Exploring evidence, visible to: your team without "
        "your name. Reply 'audience' to change."
    )
    [reflection] = await world.all(Reflection)
    assert (reflection.kind, reflection.scale_value) == ("scale", 4)
    assert reflection.delivery_id == delivery.id
    assert (reflection.project_id, reflection.cycle_id, reflection.phase_id) == (
        world.rows.project.id,
        world.rows.cycle.id,
        world.rows.phase.id,
    )
    assert reflection.research_question_id == world.rows.question.id
    assert reflection.audience == "team_anonymous"
    answered = await world.get(Delivery, delivery.id)
    assert (answered.status, answered.answered_at) == ("answered", NOW)


async def test_someone_elses_delivery_id_is_refused_and_nothing_is_stored(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        other, _ = await make_person(session, world.rows.project, name="Other Person")
        theirs = await make_delivery(session, other, world.rows, sent_at=NOW, kind="scale")

    await world.channel.tap(world.who, "1", delivery_id=theirs.id)

    assert "nothing was saved" in world.channel.unique_reply().text
    assert await world.count(Reflection) == 0
    assert (await world.get(Delivery, theirs.id)).status == "sent"
    assert await world.count(InboundEvent) == 1  # the event is still deduplicated


async def test_a_made_up_or_closed_delivery_id_is_refused(world: World) -> None:
    closed = await _delivery(world, kind="scale", status="expired")

    await world.channel.tap(world.who, "3", delivery_id=closed.id)
    await world.channel.tap(world.who, "3", delivery_id=999_999)

    assert all("nothing was saved" in t.text for t in world.channel.new_texts())
    assert await world.count(Reflection) == 0


async def test_a_reply_to_a_prompt_message_answers_that_prompt_not_the_newest(
    world: World,
) -> None:
    older = await _delivery(world, hours_ago=5, message_ref="tg:1:100")
    newer = await _delivery(world, hours_ago=1, message_ref="tg:1:200")

    await world.channel.say(world.who, "About the older one", reply_to="tg:1:100")

    [reflection] = await world.all(Reflection)
    assert reflection.delivery_id == older.id
    assert (await world.get(Delivery, newer.id)).status == "sent"


async def test_a_reply_to_a_reminder_answers_its_prompt(world: World) -> None:
    delivery = await _delivery(world, status="reminded")
    async with world.services.sessions() as session, session.begin():
        row = await session.get(Delivery, delivery.id)
        assert row is not None
        row.reminder_ref = "slack:D1:1700.1"

    await world.channel.say(world.who, "Sorry, late reply", reply_to="slack:D1:1700.1")

    assert (await world.get(Delivery, delivery.id)).status == "answered"


async def test_a_plain_message_answers_the_newest_open_prompt_in_its_window(world: World) -> None:
    await _delivery(world, hours_ago=30)
    newest = await _delivery(world, hours_ago=2)

    await world.channel.say(world.who, "We met the health visitors")

    [reflection] = await world.all(Reflection)
    assert (reflection.delivery_id, reflection.kind) == (newest.id, "text")


async def test_a_prompt_past_its_window_is_not_answered_by_a_plain_message(world: World) -> None:
    stale = await _delivery(world, hours_ago=50)  # the window is 48 hours

    await world.channel.say(world.who, "Something unrelated")

    [reflection] = await world.all(Reflection)
    assert reflection.delivery_id is None and reflection.kind == "note"
    assert reflection.project_id == world.rows.project.id
    assert reflection.phase_id == world.rows.phase.id  # the phase the project is in today
    assert (await world.get(Delivery, stale.id)).status == "sent"


async def test_a_note_from_someone_in_two_projects_asks_which_and_the_tap_files_it(
    any_world: World,
) -> None:
    world = any_world
    async with world.services.sessions() as session, session.begin():
        second = await make_project(session, name="Youth work", phase_name="Scoping")
        person, identity = await make_person(
            session, world.rows.project, second.project, name="Two Projects", now=NOW
        )

    await world.channel.say(identity.external_id, "A thought about partnership working")

    reply = world.channel.unique_reply()
    assert reply.text == "Saved. Which project is this about?"
    assert world.channel.choice_values(reply) == [
        f"project:{world.rows.project.slug}",
        f"project:{second.project.slug}",
    ]
    [note] = await world.all(Reflection)
    assert note.project_id is None

    await world.channel.tap(identity.external_id, f"project:{second.project.slug}")

    assert "Saved to Youth work · Scoping" in world.channel.unique_reply().text
    filed = await world.get(Reflection, note.id)
    assert (filed.project_id, filed.phase_id) == (second.project.id, second.phase.id)
    assert filed.person_id == person.id


async def test_a_choice_prompt_stores_the_chosen_option(world: World) -> None:
    options = [{"value": "better", "label": "Better"}, {"value": "worse", "label": "Worse"}]
    delivery = await _delivery(world, kind="choice", options=options)

    result = await world.channel.say(world.who, "Better")

    [reflection] = await world.all(Reflection)
    assert (reflection.kind, reflection.choice) == ("choice", "better")
    assert result.answered is not None and result.answered.delivery_id == delivery.id


async def test_a_photo_is_kept_as_evidence_with_its_checksum(world: World) -> None:
    delivery = await _delivery(world, kind="evidence")
    data = b"\xff\xd8\xff\xe0 a small jpeg"

    await world.channel.upload(world.who, data, filename="../../noticeboard.jpg")

    [reflection] = await world.all(Reflection)
    [attachment] = await world.all(Attachment)
    assert (reflection.kind, reflection.delivery_id) == ("evidence", delivery.id)
    digest = hashlib.sha256(data).hexdigest()
    assert attachment.sha256 == digest and attachment.size == len(data)
    assert attachment.path == f"evidence/2027/03/{digest}.jpg"
    assert attachment.filename == "noticeboard.jpg"
    stored = Path(world.services.settings.data_dir) / attachment.path
    assert stored.read_bytes() == data


async def test_a_caption_and_a_photo_make_one_text_answer_with_an_attachment(
    world: World,
) -> None:
    await _delivery(world)

    await world.channel.upload(world.who, b"png-bytes", filename="chart.png", text="Our chart")

    [reflection] = await world.all(Reflection)
    assert (reflection.kind, reflection.text) == ("text", "Our chart")
    assert await world.count(Attachment) == 1


async def test_a_file_over_the_limit_gets_a_clear_message_and_nothing_is_stored(
    world: World,
) -> None:
    await _delivery(world)

    await world.channel.say(world.who, too_large=True)

    assert "too big" in world.channel.unique_reply().text
    assert await world.count(Reflection) == 0
    assert await world.count(Attachment) == 0


async def test_a_sentence_after_a_tap_is_added_to_the_same_answer(
    any_world: World,
) -> None:
    world = any_world
    delivery = await _delivery(world, kind="scale")
    await world.channel.tap(world.who, "2", delivery_id=delivery.id)
    world.channel.new_texts()

    await world.channel.say(world.who, "Because the room was double-booked")
    photo = InboundAttachment("photo", "room.jpg", "image/jpeg", b"jpeg")
    await world.channel.say(world.who, attachments=(photo,))

    assert world.channel.new_texts()[0].text.startswith("Added to your answer")
    reflections = await world.all(Reflection)
    assert [(r.kind, r.delivery_id) for r in reflections] == [
        ("scale", delivery.id),
        ("text", delivery.id),
        ("evidence", delivery.id),
    ]

    world.clock.advance(timedelta(hours=1))  # the follow-up window has passed
    await world.channel.say(world.who, "A separate thought")
    assert (await world.all(Reflection))[-1].delivery_id is None


async def test_the_persons_own_default_audience_wins_over_the_projects(world: World) -> None:
    await world.channel.tap(world.who, "audience:private")
    await _delivery(world)

    await world.channel.say(world.who, "Just for me")

    [reflection] = await world.all(Reflection)
    assert reflection.audience == "private"
    assert "visible to: only you" in world.channel.new_texts()[-1].text


def test_a_scale_answer_reads_as_its_number_and_its_words_never_the_number_twice() -> None:
    from prompts.choices import scale_shown

    assert scale_shown("4", "Quite well") == "4 — Quite well"
    assert scale_shown("1", "1 – Hardly at all") == "1 – Hardly at all"  # the library's labels
    assert scale_shown("3", "3") == "3"  # a middle point without words
    assert scale_shown("2", "") == "2"
    assert scale_shown("1", "10 out of 10") == "1 — 10 out of 10"
