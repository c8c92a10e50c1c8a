"""What people send reaches the core as channel-neutral messages, and its answers come back."""

from __future__ import annotations

import asyncio
import logging

import pytest

from adapters.base import (
    Answered,
    Choice,
    InboundMessage,
    InboundResult,
    OutboundPrompt,
    OutboundText,
    Recipient,
)
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram.conftest import ANA, Recorder, eventually, running


async def test_a_message_reaches_the_core_with_its_update_id_and_the_reply_comes_back(
    fake: FakeTelegramAPI,
) -> None:
    core = Recorder()
    async with running(fake, core):
        update = fake.add_update(fake.message(ANA, "The drop-in felt calmer today"))
        await eventually(lambda: fake.last_text(ANA) == "Got it")
    [message] = core.messages
    assert message.channel == "telegram"
    assert message.event_id == str(update["update_id"])
    assert message.external_id == str(ANA)
    assert message.text == "The drop-in felt calmer today"
    assert message.command is None and message.reply_to is None


async def test_commands_arrive_with_their_arguments_and_without_the_bot_name(
    fake: FakeTelegramAPI,
) -> None:
    core = Recorder()
    async with running(fake, core):
        fake.add_update(fake.message(ANA, "/note parents asked about Saturday sessions"))
        fake.add_update(fake.message(ANA, "/start@carbot_test_bot ABCD-1234"))
        fake.add_update(fake.message(ANA, "/pause"))
        await eventually(lambda: len(core.messages) == 3)
    assert [(m.command, m.args, m.text) for m in core.messages] == [
        ("note", "parents asked about Saturday sessions", None),
        ("start", "ABCD-1234", None),
        ("pause", "", None),
    ]


async def test_a_reply_to_a_prompt_names_the_prompt_it_answers(fake: FakeTelegramAPI) -> None:
    core = Recorder()
    async with running(fake, core):
        fake.add_update(
            fake.message(
                ANA,
                "More dads came than usual",
                reply_to_message={
                    "message_id": 77,
                    "date": 0,
                    "chat": {"id": ANA, "type": "private"},
                    "text": "What surprised you this week?",
                },
            )
        )
        await eventually(lambda: core.messages)
    assert core.messages[0].reply_to == f"{ANA}:77"


async def test_a_group_message_gets_a_polite_answer_and_reaches_no_one(
    fake: FakeTelegramAPI,
) -> None:
    core = Recorder()
    group = -100555
    async with running(fake, core):
        fake.add_update(
            fake.message(ANA, "/status", chat={"id": group, "type": "group", "title": "Hub team"})
        )
        await eventually(lambda: fake.chat(group))
    assert core.messages == []
    assert "one to one" in fake.last_text(group)
    assert "@carbot_test_bot" in fake.last_text(group)


async def test_a_sticker_gets_told_what_can_be_read(fake: FakeTelegramAPI) -> None:
    core = Recorder()
    async with running(fake, core):
        fake.add_update(
            fake.message(
                ANA,
                sticker={
                    "file_id": "s",
                    "file_unique_id": "s",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                },
            )
        )
        await eventually(lambda: fake.chat(ANA))
    assert core.messages == []
    assert "photos, files and voice notes" in fake.last_text(ANA)


async def test_an_update_is_acknowledged_only_after_the_core_has_handled_it(
    fake: FakeTelegramAPI,
) -> None:
    release = asyncio.Event()
    seen: list[InboundMessage] = []
    polls_while_handling: list[int] = []

    async def slow_core(message: InboundMessage) -> InboundResult:
        seen.append(message)
        await release.wait()
        polls_while_handling.append(len(fake.calls_to("getUpdates")))
        return InboundResult(replies=[OutboundText("Saved")])

    async with running(fake, slow_core):
        update = fake.add_update(fake.message(ANA, "It went well"))
        await eventually(lambda: seen)
        later = fake.add_update(fake.message(ANA, "And one more thing"))  # waits its turn
        release.set()
        await eventually(lambda: fake.confirmed_offset > later["update_id"])
    # Every poll made before the core returned left the update unconfirmed to Telegram.
    before_return = fake.calls_to("getUpdates")[: polls_while_handling[0]]
    assert before_return
    assert all(int(c.params.get("offset") or 0) <= update["update_id"] for c in before_return)
    assert [m.text for m in seen] == ["It went well", "And one more thing"]
    assert fake.last_text(ANA) == "Saved"


async def test_an_update_the_core_keeps_failing_on_is_tried_again_then_the_person_is_told(
    fake: FakeTelegramAPI,
) -> None:
    tries: list[str] = []

    async def broken_core(message: InboundMessage) -> InboundResult:
        tries.append(message.event_id)
        raise RuntimeError("database is down")

    async with running(fake, broken_core):
        update = fake.add_update(fake.message(ANA, "It went well"))
        await eventually(lambda: fake.chat(ANA))
        await eventually(lambda: fake.confirmed_offset > update["update_id"])
    assert tries == [str(update["update_id"])] * 3  # the same event id each time: stored once
    assert "something went wrong" in fake.last_text(ANA)


async def test_a_redelivered_update_the_core_calls_a_duplicate_gets_no_second_reply(
    fake: FakeTelegramAPI,
) -> None:
    seen: set[str] = set()

    async def deduplicating_core(message: InboundMessage) -> InboundResult:
        if message.event_id in seen:
            return InboundResult(duplicate=True)
        seen.add(message.event_id)
        return InboundResult(replies=[OutboundText("Saved")])

    first = fake.add_update(fake.message(ANA, "It went well"))
    fake.add_update(dict(first))  # Telegram sent it again: the worker died before confirming
    last = fake.add_update(fake.message(ANA, "and one more thing"))
    async with running(fake, deduplicating_core):
        await eventually(lambda: fake.confirmed_offset > last["update_id"])
    assert len(seen) == 2
    assert [m.text for m in fake.chat(ANA)] == ["Saved", "Saved"]


async def test_an_answer_by_reply_takes_the_buttons_off_the_prompt(fake: FakeTelegramAPI) -> None:
    async with running(fake, Recorder()) as channel:
        ref = await channel.send_prompt(
            Recipient(1, str(ANA)),
            OutboundPrompt(7, "scale", "How ready do you feel?", (Choice("1", "1"),)),
        )
        prompt_id = int(ref.ref.split(":")[1])

        def core(message: InboundMessage) -> InboundResult:
            return InboundResult(answered=Answered(7, (ref.ref,), "“quite”"))

        channel._handler = Recorder(answer=core)
        fake.add_update(
            fake.message(
                ANA,
                "quite ready",
                reply_to_message={
                    "message_id": prompt_id,
                    "date": 0,
                    "chat": {"id": ANA, "type": "private"},
                    "text": fake.chat(ANA)[0].text,
                },
            )
        )
        await eventually(lambda: not fake.chat(ANA)[0].buttons)
    assert fake.chat(ANA)[0].text.endswith("✓ “quite”")


async def test_editing_a_sent_message_changes_nothing_and_says_how_to_edit(
    fake: FakeTelegramAPI,
) -> None:
    core = Recorder()
    async with running(fake, core):
        edited = fake.message(ANA, "It went really well")["message"]
        fake.add_update({"edited_message": {**edited, "edit_date": edited["date"] + 5}})
        await eventually(lambda: fake.chat(ANA))
    assert core.messages == []
    assert "/edit" in fake.last_text(ANA)


async def test_a_failing_update_is_logged_by_its_id_and_error_kind_never_by_what_was_written(
    fake: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_core(message: InboundMessage) -> InboundResult:
        # a database error's text quotes the statement's parameters: the person's words
        raise RuntimeError(f"INSERT failed [parameters: ({message.text!r},)]")

    caplog.set_level(logging.DEBUG)
    async with running(fake, broken_core):
        update = fake.add_update(fake.message(ANA, "my private words"))
        await eventually(lambda: fake.confirmed_offset > update["update_id"])
    above_debug = [r for r in caplog.records if r.levelno > logging.DEBUG]
    failed = [r for r in above_debug if "failed (try" in r.getMessage()]
    assert len(failed) == 3 and all("RuntimeError" in r.getMessage() for r in failed)
    assert all(r.exc_info is None for r in failed)
    assert not any("my private words" in r.getMessage() for r in above_debug)
