"""Prompts as DMs in Block Kit: taps, the answer modal, and the message updated in place."""

from __future__ import annotations

import json
from dataclasses import replace

from adapters.base import (
    Answered,
    Choice,
    InboundMessage,
    InboundResult,
    MessageRef,
    OutboundPrompt,
    OutboundText,
    Recipient,
)
from adapters.slack import SlackChannel
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.slack.conftest import RecordingHandler
from tests.slack.payloads import (
    DM,
    USER,
    SlackRequests,
    buttons,
    dm_event,
    prompt_tap,
    shown_text,
    view_submission_payload,
)

ALEX = Recipient(identity_id=7, external_id=USER, workspace=TEAM)
SCALE = tuple(
    Choice(str(n), label)
    for n, label in enumerate(("1 · not at all", "2", "3", "4", "5 · very much"), start=1)
)


def scale_prompt(delivery_id: int = 41) -> OutboundPrompt:
    return OutboundPrompt(
        delivery_id=delivery_id,
        kind="scale",
        text="How confident are you that the family hub reaches new parents?",
        choices=SCALE,
        context="Family hub · Exploring evidence",
    )


def answer_for(label: str):  # type: ignore[no-untyped-def]
    def reply(message: InboundMessage) -> InboundResult:
        return InboundResult(
            replies=[OutboundText("Saved, visible to: your team without your name.")],
            answered=Answered(
                message.delivery_id or 41, (message.reply_to,) if message.reply_to else (), label
            ),
        )

    return reply


async def test_a_scale_prompt_arrives_as_a_dm_with_five_buttons_and_its_context(
    slack_http: SlackChannel, fake_slack: FakeSlack
) -> None:
    ref = await slack_http.send_prompt(ALEX, scale_prompt())

    [posted] = fake_slack.posted()
    assert posted["channel"] == DM
    [(conversation, ts)] = fake_slack.messages
    assert ref == MessageRef("slack", f"{DM}:{ts}")
    assert conversation == DM
    assert posted["text"] == scale_prompt().text
    labels = [b["text"]["text"] for b in buttons(posted)]
    assert labels == [c.label for c in SCALE]
    assert "Family hub · Exploring evidence" in shown_text(posted)


async def test_a_reminder_is_posted_in_the_prompts_thread_and_shown_in_the_dm_too(
    slack_http: SlackChannel, fake_slack: FakeSlack
) -> None:
    original = await slack_http.send_prompt(ALEX, scale_prompt())
    reminder = replace(scale_prompt(), reminder=True, reminds=original.ref)

    ref = await slack_http.send_prompt(ALEX, reminder)
    await slack_http.send_prompt(ALEX, replace(reminder, reminds=None))

    first, again, fresh = fake_slack.posted()
    assert again["thread_ts"] == original.ref.split(":")[1]
    assert again["reply_broadcast"] is True
    assert "Reminder" in shown_text(again) and len(buttons(again)) == 5
    assert ref.ref != original.ref
    assert "thread_ts" not in fresh  # nothing known to point at: a new DM
    assert "thread_ts" not in first


async def test_tapping_a_scale_button_answers_that_delivery_and_the_message_shows_the_choice(
    slack: SlackRequests,
    recorder: RecordingHandler,
    slack_http: SlackChannel,
    fake_slack: FakeSlack,
) -> None:
    recorder.reply = answer_for("You answered 4")
    ref = await slack_http.send_prompt(ALEX, scale_prompt())
    ts = ref.ref.split(":")[1]
    four = buttons(fake_slack.messages[(DM, ts)])[3]

    response = await slack.interact(prompt_tap(fake_slack, ts, four))

    assert response.status_code == 200
    [tap] = recorder.messages
    assert (tap.choice, tap.delivery_id, tap.reply_to) == ("4", 41, ref.ref)
    assert tap.event_id.startswith("action:")
    [update] = fake_slack.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (DM, ts)
    assert buttons(update.params) == []
    assert "You answered 4" in shown_text(update.params)
    assert scale_prompt().text in shown_text(update.params)
    assert "visible to: your team without your name" in fake_slack.posted()[-1]["text"]


async def test_a_tap_the_core_refuses_leaves_the_buttons_in_place(
    slack: SlackRequests,
    recorder: RecordingHandler,
    slack_http: SlackChannel,
    fake_slack: FakeSlack,
) -> None:
    recorder.reply = lambda m: InboundResult(replies=[OutboundText("I can't match that.")])
    ref = await slack_http.send_prompt(ALEX, scale_prompt())
    ts = ref.ref.split(":")[1]

    await slack.interact(prompt_tap(fake_slack, ts, buttons(fake_slack.messages[(DM, ts)])[0]))

    assert fake_slack.calls_to("chat.update") == []
    assert fake_slack.posted()[-1]["text"] == "I can't match that."


async def test_the_answer_button_opens_a_modal_whose_submission_answers_that_delivery(
    slack: SlackRequests,
    recorder: RecordingHandler,
    slack_http: SlackChannel,
    fake_slack: FakeSlack,
) -> None:
    recorder.reply = answer_for("Answered in your own words")
    prompt = OutboundPrompt(delivery_id=58, kind="text", text="What surprised you this week?")
    ref = await slack_http.send_prompt(ALEX, prompt)
    ts = ref.ref.split(":")[1]
    [answer] = buttons(fake_slack.messages[(DM, ts)])
    assert answer["text"]["text"] == "Answer"

    await slack.interact(prompt_tap(fake_slack, ts, answer))

    [opened] = fake_slack.calls_to("views.open")
    modal = opened.params["view"]
    assert prompt.text in shown_text(modal)
    [field] = [b for b in modal["blocks"] if b["type"] == "input"]
    assert field["element"]["multiline"] is True
    assert json.loads(modal["private_metadata"])["d"] == 58
    assert recorder.messages == []  # opening the modal is not an answer

    await slack.interact(view_submission_payload(modal, "  Dads came along too.  "))

    [submitted] = recorder.messages
    assert (submitted.text, submitted.delivery_id, submitted.reply_to) == (
        "Dads came along too.",
        58,
        ref.ref,
    )
    [update] = fake_slack.calls_to("chat.update")
    assert update.params["ts"] == ts
    assert "Answered in your own words" in shown_text(update.params)
    assert buttons(update.params) == []


async def test_an_empty_modal_submission_is_sent_back_with_an_error(
    slack: SlackRequests, recorder: RecordingHandler
) -> None:
    view = {"id": "VEMPTY", "callback_id": "carbot_answer", "private_metadata": '{"d": 5}'}

    response = await slack.interact(view_submission_payload(view, "   "))

    assert response.json()["response_action"] == "errors"
    assert recorder.messages == []


async def test_a_plain_reply_that_answers_a_prompt_marks_the_prompt_answered(
    slack: SlackRequests,
    recorder: RecordingHandler,
    slack_http: SlackChannel,
    fake_slack: FakeSlack,
) -> None:
    ref = await slack_http.send_prompt(ALEX, scale_prompt())
    recorder.reply = lambda m: InboundResult(answered=Answered(41, (ref.ref,), "You answered 3"))

    await slack.event(dm_event("3"))

    [update] = fake_slack.calls_to("chat.update")
    assert update.params["ts"] == ref.ref.split(":")[1]
    assert "You answered 3" in shown_text(update.params)


async def test_consent_buttons_send_the_choice_and_then_show_what_was_chosen(
    slack: SlackRequests,
    recorder: RecordingHandler,
    slack_http: SlackChannel,
    fake_slack: FakeSlack,
) -> None:
    recorder.reply = lambda m: InboundResult(replies=[OutboundText("Thank you — that's recorded.")])
    consent = OutboundText(
        "Before I keep anything you send, please read this and choose:",
        (Choice("consent:yes", "I agree"), Choice("consent:no", "No thanks")),
    )
    ref = await slack_http.send_text(ALEX, consent)
    ts = ref.ref.split(":")[1]
    agree = buttons(fake_slack.messages[(DM, ts)])[0]

    await slack.interact(prompt_tap(fake_slack, ts, agree))

    [tap] = recorder.messages
    assert (tap.choice, tap.delivery_id) == ("consent:yes", None)
    [update] = fake_slack.calls_to("chat.update")
    assert "I agree" in shown_text(update.params)
    assert buttons(update.params) == []
    assert fake_slack.posted()[-1]["text"] == "Thank you — that's recorded."


async def test_a_redelivered_tap_is_handled_once(
    slack: SlackRequests,
    recorder: RecordingHandler,
    slack_http: SlackChannel,
    fake_slack: FakeSlack,
) -> None:
    recorder.reply = answer_for("You answered 2")
    ref = await slack_http.send_prompt(ALEX, scale_prompt())
    ts = ref.ref.split(":")[1]
    tap = prompt_tap(fake_slack, ts, buttons(fake_slack.messages[(DM, ts)])[1])

    await slack.interact(tap)
    await slack.interact(tap)

    assert len(recorder.messages) == 1
    assert len(fake_slack.calls_to("chat.update")) == 1
