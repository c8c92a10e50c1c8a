"""Every command a person can send, as they would send it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from adapters.base import InboundMessage
from bot.core.parsing import parse_command, parse_pause
from bot.engine.planner import plan_once
from storage.models import (
    Attachment,
    ConsentRecord,
    Delivery,
    InboundEvent,
    Person,
    Reflection,
)
from tests.core.conftest import NOW, World
from tests.support.participants import make_delivery
from tests.support.transcript import TranscriptChannel


async def _delivery(world: World, **kwargs: object) -> Delivery:
    kwargs.setdefault("sent_at", NOW - timedelta(hours=1))
    async with world.services.sessions() as session, session.begin():
        return await make_delivery(session, world.person, world.rows, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("help", ("help", "")),
        ("/note The hub was full", ("note", "The hub was full")),
        ("/status@carbot_bot", ("status", "")),
        ("pause 2 weeks", ("pause", "2 weeks")),
        ("snooze tomorrow", ("snooze", "tomorrow")),
        ("audience team last", ("audience", "team last")),
        ("Help!", ("help", "")),
        ("pause", ("pause", "")),
        ("help me understand the referral backlog", None),
        ("stop the referrals going to the wrong team", None),
        ("note to self: ask about budgets", ("note", "to self: ask about budgets")),
        ("Note: the hub was full", ("note", "the hub was full")),
        ("edit We met twice, not once", ("edit", "We met twice, not once")),
    ],
)
def test_a_whole_message_command_word_counts_but_a_sentence_is_an_answer(
    text: str, expected: tuple[str, str] | None
) -> None:
    assert parse_command(TranscriptChannel().message("x", text)) == expected


def test_a_reply_to_a_prompt_that_starts_with_note_is_still_an_answer() -> None:
    reply = TranscriptChannel().message("x", "Note that it rained", reply_to="web:1")
    assert parse_command(reply) is None


def test_pause_understands_dates_and_spans() -> None:
    today = date(2027, 3, 2)
    assert parse_pause("2027-03-20", today) == date(2027, 3, 20)
    assert parse_pause("until 1 April", today) == date(2027, 4, 1)
    assert parse_pause("2 weeks", today) == date(2027, 3, 16)
    assert parse_pause("a week", today) == date(2027, 3, 9)
    assert parse_pause("whenever", today) is None


async def test_help_lists_the_commands(world: World) -> None:
    await world.channel.say(world.who, "help")
    reply = world.channel.unique_reply().text
    for word in ("note", "snooze", "skip", "pause", "edit", "undo", "audience", "status", "stop"):
        assert word in reply


async def test_an_unknown_command_gets_a_hint_and_nothing_is_stored(world: World) -> None:
    await world.channel.say(world.who, "/frobnicate now", event_id="u1")

    assert "don't know the command 'frobnicate'" in world.channel.unique_reply().text
    assert await world.count(Reflection) == 0
    assert await world.count(InboundEvent) == 1
    assert (await world.channel.say(world.who, "/frobnicate now", event_id="u1")).duplicate


async def test_note_saves_an_ad_hoc_reflection_even_with_a_prompt_open(world: World) -> None:
    delivery = await _delivery(world)

    await world.channel.say(world.who, command="note", args="Budget meeting moved")

    [note] = await world.all(Reflection)
    assert (note.kind, note.text, note.delivery_id) == ("note", "Budget meeting moved", None)
    assert (await world.get(Delivery, delivery.id)).status == "sent"
    assert "Saved to Family hub approach" in world.channel.unique_reply().text


async def test_pause_skips_planned_prompts_in_the_pause_and_resume_lifts_it(
    any_world: World,
) -> None:
    world = any_world
    inside = await _delivery(world, sent_at=NOW + timedelta(days=3), status="planned")
    after = await _delivery(world, sent_at=NOW + timedelta(days=30), status="planned")

    await world.channel.say(world.who, "pause until 2027-03-10")

    assert "Paused until Wednesday 10 March 2027" in world.channel.unique_reply().text
    assert (await world.get(Person, world.person.id)).paused_until == date(2027, 3, 10)
    assert (await world.get(Delivery, inside.id)).status == "skipped"
    assert (await world.get(Delivery, after.id)).status == "planned"

    await world.channel.say(world.who, "resume")
    assert "Welcome back" in world.channel.unique_reply().text
    assert (await world.get(Person, world.person.id)).paused_until is None


async def test_pause_without_a_date_asks_until_when_and_pauses_nothing(world: World) -> None:
    await world.channel.say(world.who, "pause")

    assert "Pause until when?" in world.channel.unique_reply().text
    assert (await world.get(Person, world.person.id)).paused_until is None


async def test_snooze_puts_the_open_prompt_back_for_later(
    any_world: World,
) -> None:
    world = any_world
    delivery = await _delivery(world)

    await world.channel.say(world.who, "snooze")

    snoozed = await world.get(Delivery, delivery.id)
    assert (snoozed.status, snoozed.snoozed) == ("planned", True)
    assert snoozed.due_at == NOW + timedelta(hours=3)  # 13:00 in London, still working hours
    assert "Tuesday 2 March at 13:00" in world.channel.unique_reply().text


async def test_snooze_tomorrow_moves_it_into_the_next_working_day(world: World) -> None:
    delivery = await _delivery(world)

    await world.channel.say(world.who, "snooze tomorrow")

    due = (await world.get(Delivery, delivery.id)).due_at
    assert due.date() == date(2027, 3, 3)
    assert "Wednesday 3 March" in world.channel.unique_reply().text


async def test_skip_skips_the_open_prompt_or_else_the_next_planned_one(world: World) -> None:
    open_one = await _delivery(world)
    planned = await _delivery(world, sent_at=NOW + timedelta(days=2), status="planned")

    await world.channel.say(world.who, "skip")
    await world.channel.say(world.who, "skip")
    await world.channel.say(world.who, "skip")

    assert (await world.get(Delivery, open_one.id)).status == "skipped"
    assert (await world.get(Delivery, planned.id)).status == "skipped"
    replies = [t.text for t in world.channel.new_texts()]
    assert replies[1].startswith("Skipped your next question (due Thursday 4 March")
    assert replies[2] == "There's no question to skip right now."


async def test_edit_changes_the_last_answer_within_24_hours_only(world: World) -> None:
    await _delivery(world)
    await world.channel.say(world.who, "We met once")

    await world.channel.say(world.who, "/edit We met twice")
    [reflection] = await world.all(Reflection)
    assert (reflection.text, reflection.edited_at) == ("We met twice", NOW)

    world.clock.advance(timedelta(hours=25))
    await world.channel.say(world.who, "/edit Three times")
    assert "no answer from the last 24 hours" in world.channel.new_texts()[-1].text
    assert (await world.get(Reflection, reflection.id)).text == "We met twice"


async def test_undo_deletes_the_last_answer_its_files_and_reopens_the_prompt(
    any_world: World,
) -> None:
    world = any_world
    delivery = await _delivery(world, kind="evidence")
    await world.channel.upload(world.who, b"undo me", filename="x.png", content_type="image/png")
    [attachment] = await world.all(Attachment)
    stored = world.services.settings.data_dir / attachment.path
    assert stored.exists()

    await world.channel.say(world.who, "undo")

    assert "deleted" in world.channel.new_texts()[-1].text
    assert await world.count(Reflection) == 0
    assert await world.count(Attachment) == 0
    assert not stored.exists()
    assert (await world.get(Delivery, delivery.id)).status == "sent"


async def test_undo_after_a_photo_added_to_an_answer_says_it_removed_only_the_photo(
    world: World,
) -> None:
    delivery = await _delivery(world, kind="scale", text="How well did the hub meeting go?")
    await world.channel.tap(world.who, "4", delivery_id=delivery.id)
    await world.channel.upload(world.who, b"board", filename="noticeboard.png")
    world.channel.new_texts()

    await world.channel.say(world.who, "undo")

    reply = world.channel.unique_reply().text
    assert reply == (
        'Done — I removed the photo noticeboard.png from your answer to "How well did the hub '
        'meeting go?". The rest of that answer is kept.'
    )
    [kept] = await world.all(Reflection)
    assert (kept.kind, kept.scale_value) == ("scale", 4)
    assert await world.count(Attachment) == 0
    assert (await world.get(Delivery, delivery.id)).status == "answered"


async def test_undo_of_a_whole_answer_names_the_rating_and_opens_the_question_again(
    world: World,
) -> None:
    delivery = await _delivery(world, kind="scale", text="How well did the hub meeting go?")
    await world.channel.tap(world.who, "4", delivery_id=delivery.id)
    world.channel.new_texts()

    await world.channel.say(world.who, "undo")

    assert world.channel.unique_reply().text == (
        'Done — I deleted your whole answer to "How well did the hub meeting go?" '
        '(your rating "4 — Quite well"). The question is open again if you\'d like to answer it.'
    )
    assert await world.count(Reflection) == 0
    assert (await world.get(Delivery, delivery.id)).status == "sent"


async def test_undo_of_a_note_quotes_the_words_it_deleted(world: World) -> None:
    await world.channel.say(world.who, "/note The budget meeting moved to Thursday afternoon")
    world.channel.new_texts()

    await world.channel.say(world.who, "undo")

    assert world.channel.unique_reply().text == (
        'Done — I deleted your note (your words "The budget meeting moved to Thursday afternoon").'
    )


async def test_undo_does_not_reach_back_more_than_24_hours(world: World) -> None:
    await world.channel.say(world.who, "/note An old note")
    world.clock.advance(timedelta(hours=24, minutes=1))

    await world.channel.say(world.who, "undo")

    assert "no answer from the last 24 hours" in world.channel.new_texts()[-1].text
    assert await world.count(Reflection) == 1


async def test_audience_changes_the_default_or_only_the_last_answer(world: World) -> None:
    await world.channel.say(world.who, "/note First")
    await world.channel.say(world.who, "audience team")
    assert (await world.get(Person, world.person.id)).default_audience == "team"
    await world.channel.say(world.who, "/note Second")

    await world.channel.say(world.who, "audience private last")

    first, second = await world.all(Reflection)
    assert (first.audience, second.audience) == ("team_anonymous", "private")


async def test_audience_alone_shows_the_choices_for_the_last_answer(world: World) -> None:
    await world.channel.say(world.who, "/note Something")
    world.channel.new_texts()

    await world.channel.say(world.who, "audience")
    reply = world.channel.unique_reply()
    assert "Your last answer is visible to: your team without your name" in reply.text
    assert "audience:researchers:last" in world.channel.choice_values(reply)

    await world.channel.tap(world.who, "audience:researchers:last")
    [note] = await world.all(Reflection)
    assert note.audience == "researchers"


async def test_status_tells_the_next_prompt_in_the_persons_zone_and_this_weeks_answers(
    any_world: World,
) -> None:
    world = any_world
    await world.channel.say(world.who, "/note Monday thought")
    # 2027-04-06 09:30 UTC is 10:30 in London (summer time)
    await _delivery(world, sent_at=NOW.replace(month=4, day=6, hour=9, minute=30), status="planned")
    world.channel.new_texts()

    await world.channel.say(world.who, "status")

    reply = world.channel.unique_reply().text
    assert "Your next question is due Tuesday 6 April at 10:30." in reply
    assert "Answers this week: 1." in reply


async def test_stop_withdraws_consent_skips_prompts_and_says_what_happens_to_the_data(
    any_world: World,
) -> None:
    world = any_world
    open_one = await _delivery(world)
    planned = await _delivery(world, sent_at=NOW + timedelta(days=2), status="planned")

    await world.channel.say(world.who, "stop")

    reply = world.channel.unique_reply().text
    assert "won't send you any more questions" in reply
    assert "Keep it" in reply and "delete everything" in reply
    assert (await world.get(Person, world.person.id)).withdrawn_at == NOW
    [consent] = await world.all(ConsentRecord)
    assert consent.withdrawn_at == NOW
    # withdrawal ends every pending prompt the same way, planned or already open
    for delivery in (planned, open_one):
        row = await world.get(Delivery, delivery.id)
        assert (row.status, row.status_reason) == ("skipped", "withdrawn")

    await world.channel.say(world.who, "One more thing")
    assert "left the study" in world.channel.unique_reply().text
    assert await world.count(Reflection) == 0


async def test_after_stop_the_dispatcher_sends_nothing(world: World) -> None:
    from bot.engine.dispatch import dispatch_once

    await _delivery(world, sent_at=NOW - timedelta(minutes=1), status="planned")
    await world.channel.say(world.who, "stop")

    sent = await dispatch_once(world.services, {"webchat": world.channel}, NOW, worker="t")

    assert sent == 0
    assert world.channel.prompts == []


def _outbox_with_a_quote(outbox: Path) -> tuple[Path, Path]:
    outbox.mkdir(parents=True, exist_ok=True)
    digest = outbox / "lead_weekly_7.eml"
    digest.write_text(
        "To: lead@example.org\nSubject: This week\n\n"
        "Heard: \u201cThe kettle was on before nine and it felt calmer\u201d\n"
    )
    untouched = outbox / "lead_weekly_8.eml"
    untouched.write_text("To: lead@example.org\nSubject: Another project\n\nNothing of theirs\n")
    return digest, untouched


async def test_undo_takes_the_words_out_of_a_digest_copy_already_in_the_outbox(
    world: World,
) -> None:
    await _delivery(world)
    await world.channel.say(world.who, "The kettle was on before nine and it felt calmer")
    digest, untouched = _outbox_with_a_quote(Path(world.services.settings.outbox_dir))

    await world.channel.say(world.who, "undo")

    assert "deleted" in world.channel.new_texts()[-1].text
    assert "kettle" not in digest.read_text()
    assert "To: lead@example.org" in digest.read_text()  # the record that it went out stays
    assert "Nothing of theirs" in untouched.read_text()


@contextmanager
def meanwhile(world: World, delivery_id: int, marker: str, status: str) -> Iterator[None]:
    """Another message changes the delivery to ``status`` just before the command's own
    UPDATE of it (the first one whose SQL mentions ``marker``) reaches the database."""
    done: list[bool] = []

    def race(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if not done and statement.startswith("UPDATE deliveries") and marker in statement:
            done.append(True)
            cursor.execute(f"UPDATE deliveries SET status = '{status}' WHERE id = {delivery_id}")

    engine = world.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", race)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", race)
    assert done, "the command never updated the delivery"


async def test_snooze_of_a_prompt_answered_meanwhile_changes_nothing_and_says_so(
    any_world: World,
) -> None:
    world = any_world
    delivery = await _delivery(world)

    with meanwhile(world, delivery.id, "snoozed", "answered"):
        await world.channel.say(world.who, "snooze")

    row = await world.get(Delivery, delivery.id)
    assert (row.status, row.snoozed, row.due_at) == ("answered", False, delivery.due_at)
    assert "nothing to snooze" in world.channel.unique_reply().text


async def test_undo_of_an_answer_whose_prompt_changed_meanwhile_takes_nothing_back(
    any_world: World,
) -> None:
    world = any_world
    delivery = await _delivery(world, kind="scale", text="How well did the hub meeting go?")
    await world.channel.tap(world.who, "4", delivery_id=delivery.id)
    world.channel.new_texts()

    with meanwhile(world, delivery.id, "answered_at", "expired"):
        await world.channel.say(world.who, "undo")

    assert "haven't taken anything back" in world.channel.unique_reply().text
    assert await world.count(Reflection) == 1
    assert (await world.get(Delivery, delivery.id)).status == "expired"


async def test_prompts_skipped_by_a_pause_are_planned_again_after_resume(
    any_world: World,
) -> None:
    world = any_world
    services = world.services
    await plan_once(services, NOW, horizon=timedelta(days=7))
    planned = [d for d in await world.all(Delivery) if d.status == "planned"]
    assert planned

    await world.channel.say(world.who, "pause 2 weeks")
    assert {(d.status, d.status_reason) for d in await world.all(Delivery)} == {
        ("skipped", "paused")
    }
    await world.channel.say(world.who, "resume")
    world.channel.new_texts()
    await plan_once(services, NOW + timedelta(minutes=1), horizon=timedelta(days=7))

    rows = await world.all(Delivery)
    assert [(d.slot, d.status) for d in rows] == [(d.slot, "planned") for d in planned]


async def _answer_two(world: World) -> None:
    # a sentence within four minutes of its prompt (the interval), a tap two hours later (20 s)
    await _delivery(world, sent_at=NOW - timedelta(minutes=4))
    await world.channel.say(
        world.who, "The drop-in was busier than ever and we ran out of leaflets"
    )
    await _delivery(world, kind="scale", sent_at=NOW - timedelta(hours=2))
    await world.channel.say(world.who, "4")
    world.channel.new_texts()


async def test_status_tells_this_months_questions_and_minutes(world: World) -> None:
    await _answer_two(world)

    await world.channel.say(world.who, "status")

    assert "This month: 2 questions, about 4 minutes." in world.channel.unique_reply().text


async def test_my_time_gives_one_line_since_joining_to_show_a_manager(world: World) -> None:
    await world.channel.say(world.who, "my time")
    assert world.channel.unique_reply().text.startswith("Since 2 March 2027: 0 questions.")
    await _answer_two(world)
    world.clock.advance(timedelta(days=40))

    await world.channel.say(world.who, "/time")

    reply = world.channel.unique_reply().text
    assert reply.startswith("Since 2 March 2027: 2 questions, about 4 minutes.")


def test_time_alone_is_an_answer_but_my_time_is_the_command() -> None:
    def message(text: str) -> InboundMessage:
        return InboundMessage(channel="webchat", event_id="1", external_id="x", received_at=NOW,
                              text=text)  # fmt: skip

    assert parse_command(message("Time")) is None
    assert parse_command(message("My time")) == ("time", "")


@pytest.mark.parametrize(
    ("words", "changed"),
    [
        ("pause 1 week", True),
        ("audience team", True),
        ("stop", True),
        ("status", False),
        ("help", False),
        ("audience", False),  # only shows the choices
        ("pause", False),  # asks until when
    ],
)
async def test_the_core_says_when_a_persons_standing_changed(
    world: World, words: str, changed: bool
) -> None:
    result = await world.channel.say(world.who, words)

    assert result.state_changed is changed
