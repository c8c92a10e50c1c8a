"""Prompts and replies as people see them, and how sending failures come back to the core."""

from __future__ import annotations

import asyncio

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
from adapters.errors import DeliveryError
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram.conftest import ANA, Recorder, eventually, running

# PTB itself reads RetryAfter.retry_after while building the error: not our deprecation to fix.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

TO_ANA = Recipient(identity_id=1, external_id=str(ANA))
SCALE = tuple(Choice(str(n), str(n)) for n in range(1, 6))


async def test_a_text_prompt_shows_its_context_and_how_to_answer(fake: FakeTelegramAPI) -> None:
    async with running(fake, Recorder()) as channel:
        ref = await channel.send_prompt(
            TO_ANA,
            OutboundPrompt(
                5, "text", "What surprised you this week?", context="Family hub · Scoping"
            ),
        )
    [shown] = fake.chat(ANA)
    assert ref.channel == "telegram" and ref.ref == f"{ANA}:{shown.message_id}"
    assert shown.text == "Family hub · Scoping\n\nWhat surprised you this week?\n\n" + (
        "Reply with a few words."
    )
    assert shown.buttons == []


async def test_a_scale_prompt_has_one_row_of_buttons_carrying_the_delivery_and_value(
    fake: FakeTelegramAPI,
) -> None:
    async with running(fake, Recorder()) as channel:
        await channel.send_prompt(TO_ANA, OutboundPrompt(31, "scale", "How ready?", SCALE))
    [shown] = fake.chat(ANA)
    assert [[b["text"] for b in row] for row in shown.buttons] == [["1", "2", "3", "4", "5"]]
    assert shown.button_data == ["31|1", "31|2", "31|3", "31|4", "31|5"]


async def test_a_worded_scale_fits_one_row_of_numbers_with_the_words_in_the_message(
    fake: FakeTelegramAPI,
) -> None:
    worded = tuple(
        Choice(str(n), label)
        for n, label in enumerate(
            ("Not at all", "A little", "Somewhat", "Quite well", "Very well"), start=1
        )
    )
    async with running(fake, Recorder()) as channel:
        await channel.send_prompt(TO_ANA, OutboundPrompt(31, "scale", "How well?", worded))
    [shown] = fake.chat(ANA)
    assert [[b["text"] for b in row] for row in shown.buttons] == [["1", "2", "3", "4", "5"]]
    assert shown.button_data == ["31|1", "31|2", "31|3", "31|4", "31|5"]
    assert shown.text == (
        "How well?\n\nTap a number below.\n\n"
        "1 — Not at all\n2 — A little\n3 — Somewhat\n4 — Quite well\n5 — Very well"
    )


async def test_a_choice_prompt_lists_long_options_one_per_row(fake: FakeTelegramAPI) -> None:
    choices = (Choice("more", "More families came"), Choice("same", "About the same"))
    async with running(fake, Recorder()) as channel:
        await channel.send_prompt(TO_ANA, OutboundPrompt(8, "choice", "Attendance?", choices))
    assert [[b["text"] for b in row] for row in fake.chat(ANA)[0].buttons] == [
        ["More families came"],
        ["About the same"],
    ]


async def test_an_evidence_reminder_says_it_is_a_reminder_and_asks_for_a_photo(
    fake: FakeTelegramAPI,
) -> None:
    async with running(fake, Recorder()) as channel:
        await channel.send_prompt(
            TO_ANA, OutboundPrompt(9, "evidence", "Show us the new rota", reminder=True)
        )
    text = fake.last_text(ANA)
    assert text.startswith("Reminder: Show us the new rota")
    assert "photo, a file or a voice note" in text


async def test_a_reminder_quotes_the_prompt_it_is_about(fake: FakeTelegramAPI) -> None:
    async with running(fake, Recorder()) as channel:
        original = await channel.send_prompt(TO_ANA, OutboundPrompt(9, "text", "What changed?"))
        reminder = OutboundPrompt(9, "text", "What changed?", reminder=True, reminds=original.ref)
        await channel.send_prompt(TO_ANA, reminder)

    first, again = fake.calls_to("sendMessage")
    assert "reply_parameters" not in first.params
    assert again.params["reply_parameters"]["message_id"] == int(original.ref.split(":")[1])
    assert again.params["reply_parameters"]["allow_sending_without_reply"] is True
    assert fake.last_text(ANA).startswith("Reminder: What changed?")


async def test_a_reply_with_choices_gets_buttons_that_answer_no_prompt(
    fake: FakeTelegramAPI,
) -> None:
    async with running(fake, Recorder()) as channel:
        await channel.send_text(
            TO_ANA,
            OutboundText(
                "Who should see?",
                (Choice("audience:team", "Team"), Choice("audience:private", "Me")),
            ),
        )
    assert fake.chat(ANA)[0].button_data == ["|audience:team", "|audience:private"]


async def test_tapping_a_button_answers_the_prompt_and_shows_the_choice_on_it(
    fake: FakeTelegramAPI,
) -> None:
    def core(message: InboundMessage) -> InboundResult:
        assert message.delivery_id is not None and message.reply_to is not None
        return InboundResult(
            replies=[OutboundText("Thanks, saved.")],
            answered=Answered(message.delivery_id, (message.reply_to,), f"{message.choice} of 5"),
        )

    recorder = Recorder(answer=core)
    async with running(fake, recorder) as channel:
        ref = await channel.send_prompt(TO_ANA, OutboundPrompt(31, "scale", "How ready?", SCALE))
        prompt_id = int(ref.ref.split(":")[1])
        update = fake.add_update(fake.tap(ANA, prompt_id, "31|4"))
        await eventually(lambda: len(fake.chat(ANA)) == 2)
    [tap] = recorder.messages
    assert (tap.choice, tap.delivery_id, tap.event_id) == ("4", 31, str(update["update_id"]))
    prompt, confirmation = fake.chat(ANA)
    assert prompt.buttons == []
    assert prompt.text == "How ready?\n\nTap a number below.\n\n✓ 4 of 5"
    assert confirmation.text == "Thanks, saved."
    assert len(fake.calls_to("answerCallbackQuery")) == 1


async def test_a_button_with_data_that_is_not_ours_reaches_no_one(fake: FakeTelegramAPI) -> None:
    recorder = Recorder()
    async with running(fake, recorder) as channel:
        ref = await channel.send_prompt(TO_ANA, OutboundPrompt(31, "scale", "How ready?", SCALE))
        fake.add_update(fake.tap(ANA, int(ref.ref.split(":")[1]), "drop table;"))
        await eventually(lambda: fake.calls_to("answerCallbackQuery"))
    assert recorder.messages == []
    assert "no longer works" in fake.calls_to("answerCallbackQuery")[0].params["text"]


async def test_after_a_429_the_send_waits_retry_after_and_goes_through_once(
    fake: FakeTelegramAPI,
) -> None:
    fake.fail("sendMessage", 429, retry_after=1)
    async with running(fake, Recorder()) as channel:
        await channel.send_prompt(TO_ANA, OutboundPrompt(5, "text", "What surprised you?"))
    first, second = fake.calls_to("sendMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0
    assert len(fake.chat(ANA)) == 1


async def test_a_blocked_bot_is_a_permanent_delivery_error(fake: FakeTelegramAPI) -> None:
    fake.fail("sendMessage", 403)
    async with running(fake, Recorder()) as channel:
        with pytest.raises(DeliveryError) as raised:
            await channel.send_prompt(TO_ANA, OutboundPrompt(5, "text", "What surprised you?"))
    assert raised.value.permanent
    assert "blocked" in str(raised.value)


async def test_a_server_error_is_retried_and_the_prompt_arrives_once(
    fake: FakeTelegramAPI,
) -> None:
    fake.fail("sendMessage", 502)
    fake.fail("sendMessage", 500)
    async with running(fake, Recorder()) as channel:
        await channel.send_prompt(TO_ANA, OutboundPrompt(5, "text", "What surprised you?"))
    assert [c.status for c in fake.calls_to("sendMessage")] == [502, 500, 200]
    assert len(fake.chat(ANA)) == 1


async def test_server_errors_that_persist_are_a_transient_delivery_error(
    fake: FakeTelegramAPI,
) -> None:
    fake.fail("sendMessage", 500, times=3)
    async with running(fake, Recorder()) as channel:
        with pytest.raises(DeliveryError) as raised:
            await channel.send_prompt(TO_ANA, OutboundPrompt(5, "text", "What surprised you?"))
    assert not raised.value.permanent
    assert fake.chat(ANA) == []


async def test_a_chat_that_no_longer_exists_is_a_permanent_delivery_error(
    fake: FakeTelegramAPI,
) -> None:
    fake.fail("sendMessage", 400, description="Bad Request: chat not found")
    async with running(fake, Recorder()) as channel:
        with pytest.raises(DeliveryError) as raised:
            await channel.send_text(TO_ANA, OutboundText("Hello"))
    assert raised.value.permanent


async def test_sends_keep_to_the_overall_and_per_chat_limits_without_a_single_429(
    fake: FakeTelegramAPI,
) -> None:
    fake.per_second = 10
    fake.per_chat_interval = 0.2
    chats = [Recipient(n, str(1000 + n)) for n in range(5)]
    # the channel is set a little under the fake's limits: loaded test machines jitter
    async with running(fake, Recorder(), per_window=8, per_chat_interval=0.25) as channel:
        await asyncio.gather(
            *(channel.send_text(to, OutboundText(f"message {i}")) for i in range(5) for to in chats)
        )
    assert fake.too_many_requests == 0
    for to in chats:
        assert [m.text for m in fake.chat(int(to.external_id))] == [
            f"message {i}" for i in range(5)
        ]


async def test_a_send_that_times_out_is_a_transient_delivery_error(fake: FakeTelegramAPI) -> None:
    fake.stall("sendMessage", 2.0)
    async with running(fake, Recorder(), request_timeout=0.5) as channel:
        with pytest.raises(DeliveryError) as raised:
            await channel.send_prompt(TO_ANA, OutboundPrompt(5, "text", "What surprised you?"))
    assert not raised.value.permanent
    assert len(fake.calls_to("sendMessage")) <= 1  # not sent again at once: it may have arrived


async def test_a_reply_over_telegrams_length_limit_arrives_in_pieces_with_the_buttons_last(
    fake: FakeTelegramAPI,
) -> None:
    paragraph = "We tried the new rota for a week. " * 40  # about 1,400 characters
    text = "\n\n".join([paragraph.strip()] * 4)
    async with running(fake, Recorder()) as channel:
        ref = await channel.send_text(TO_ANA, OutboundText(text, (Choice("ok", "OK"),)))
    shown = fake.chat(ANA)
    assert len(shown) == 2
    assert all(len(m.text) <= 4096 for m in shown)
    assert "\n\n".join(m.text for m in shown) == text
    assert shown[0].buttons == [] and shown[1].button_data == ["|ok"]
    assert ref.ref == f"{ANA}:{shown[1].message_id}"


async def test_a_tap_on_a_prompt_too_old_for_telegram_to_show_still_answers_it(
    fake: FakeTelegramAPI,
) -> None:
    def core(message: InboundMessage) -> InboundResult:
        assert message.reply_to is not None
        return InboundResult(answered=Answered(31, (message.reply_to,), "4"))

    recorder = Recorder(answer=core)
    async with running(fake, recorder) as channel:
        ref = await channel.send_prompt(TO_ANA, OutboundPrompt(31, "scale", "How ready?", SCALE))
        tap = fake.tap(ANA, int(ref.ref.split(":")[1]), "31|4")
        tap["callback_query"]["message"] = {  # Telegram sends an "inaccessible message" (date 0)
            "chat": {"id": ANA, "type": "private"},
            "message_id": int(ref.ref.split(":")[1]),
            "date": 0,
        }
        fake.add_update(tap)
        await eventually(lambda: not fake.chat(ANA)[0].buttons)
    assert [(m.choice, m.delivery_id) for m in recorder.messages] == [("4", 31)]
    assert len(fake.calls_to("editMessageReplyMarkup")) == 1


async def test_a_connection_dropped_after_telegram_took_the_prompt_is_not_sent_again_here(
    fake: FakeTelegramAPI,
) -> None:
    fake.drop_after("sendMessage")
    async with running(fake, Recorder()) as channel:
        with pytest.raises(DeliveryError) as raised:
            await channel.send_prompt(TO_ANA, OutboundPrompt(5, "text", "What surprised you?"))
    assert not raised.value.permanent  # the dispatcher, which knows the delivery, decides
    assert len(fake.calls_to("sendMessage")) == 1
    assert len(fake.chat(ANA)) == 1
