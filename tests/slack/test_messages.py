"""Direct messages, thread replies, files and redelivered events, through the real Bolt app."""

from __future__ import annotations

import json
import time
from typing import Any

from adapters.base import InboundResult, OutboundText
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.slack.conftest import BOT_TOKEN, RecordingHandler
from tests.slack.payloads import DM, USER, SlackRequests, dm_event


async def test_a_direct_message_reaches_the_core_and_its_reply_is_posted_in_the_dm(
    slack: SlackRequests, recorder: RecordingHandler, fake_slack: FakeSlack
) -> None:
    recorder.reply = lambda m: InboundResult(replies=[OutboundText("Saved, visible to: only you.")])

    response = await slack.event(dm_event("The drop-in was busier &amp; calmer"), event_id="Ev1")

    assert response.status_code == 200
    [message] = recorder.messages
    assert (message.channel, message.event_id, message.external_id) == ("slack", "Ev1", USER)
    assert message.workspace == TEAM
    assert message.text == "The drop-in was busier & calmer"
    assert message.reply_to is None
    [posted] = fake_slack.posted()
    assert posted["channel"] == DM
    assert posted["text"] == "Saved, visible to: only you."
    assert fake_slack.calls_to("conversations.open")[0].params["users"] == USER
    assert all(call.token == BOT_TOKEN for call in fake_slack.calls_to("chat.postMessage"))


async def test_a_reply_in_a_prompts_thread_names_that_prompt_and_is_answered_in_the_thread(
    slack: SlackRequests, recorder: RecordingHandler, fake_slack: FakeSlack
) -> None:
    recorder.reply = lambda m: InboundResult(replies=[OutboundText("Saved.")])

    await slack.event(dm_event("In the thread", thread_ts="1700000001.000100"))

    assert recorder.messages[0].reply_to == f"{DM}:1700000001.000100"
    assert fake_slack.posted()[0]["thread_ts"] == "1700000001.000100"


async def test_a_redelivered_event_is_handled_once(
    slack: SlackRequests, recorder: RecordingHandler, fake_slack: FakeSlack
) -> None:
    recorder.reply = lambda m: InboundResult(replies=[OutboundText("Saved.")])
    event = dm_event("Once only")

    first = await slack.event(event, event_id="EvSame")
    retry = await slack.event(event, event_id="EvSame", retry_num=1)

    assert first.status_code == retry.status_code == 200
    assert len(recorder.messages) == 1
    assert len(fake_slack.posted()) == 1


async def test_messages_from_bots_edits_and_other_conversations_are_ignored(
    slack: SlackRequests, recorder: RecordingHandler
) -> None:
    await slack.event(dm_event("from a bot", bot_id="B1"))
    await slack.event({**dm_event("in a channel"), "channel_type": "channel", "channel": "C1"})

    assert recorder.messages == []


async def test_editing_a_sent_message_changes_nothing_and_says_how_to_edit(
    slack: SlackRequests, recorder: RecordingHandler, fake_slack: FakeSlack
) -> None:
    def edit(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        return {**dm_event(None, subtype="message_changed"), "user": None,
                "message": after, "previous_message": before}  # fmt: skip

    mine = {"type": "message", "user": USER, "text": "We met once", "ts": "1800000000.1"}
    await slack.event(edit(mine, {**mine, "text": "We met twice"}))
    await slack.event(edit(mine, {**mine, "attachments": [{"title": "an unfurled link"}]}))
    ours = {"type": "message", "bot_id": "BCARBOT", "text": "Prompt", "ts": "1800000000.2"}
    await slack.event(edit(ours, {**ours, "text": "Prompt — answered"}))

    assert recorder.messages == []  # nothing reaches the core, nothing is stored
    [hint] = fake_slack.posted()
    assert "editing a message here doesn't change it" in hint["text"]
    assert "'edit'" in hint["text"]


async def test_a_shared_file_is_downloaded_with_the_bot_token_and_becomes_evidence(
    slack: SlackRequests, recorder: RecordingHandler, fake_slack: FakeSlack
) -> None:
    shared = fake_slack.add_file(b"\x89PNG fake image", name="board.png", mimetype="image/png")

    await slack.event(dm_event("Our planning board", subtype="file_share", files=[shared]))

    [message] = recorder.messages
    [attachment] = message.attachments
    assert (attachment.kind, attachment.filename, attachment.content_type) == (
        "photo",
        "board.png",
        "image/png",
    )
    assert attachment.data == b"\x89PNG fake image"
    assert message.text == "Our planning board"
    [download] = fake_slack.calls_to("files.download")
    assert download.token == BOT_TOKEN


async def test_a_file_over_the_size_limit_is_not_downloaded(
    slack: SlackRequests, recorder: RecordingHandler, fake_slack: FakeSlack
) -> None:
    shared = fake_slack.add_file(b"x" * 2000, name="minutes.pdf", mimetype="application/pdf")

    await slack.event(dm_event(None, subtype="file_share", files=[shared]))

    [message] = recorder.messages
    assert message.too_large is True
    assert message.attachments == ()
    assert fake_slack.calls_to("files.download") == []


async def test_a_file_whose_size_was_understated_stops_downloading_at_the_limit(
    slack: SlackRequests, recorder: RecordingHandler, fake_slack: FakeSlack
) -> None:
    shared = fake_slack.add_file(b"y" * 5000, name="voice.m4a", mimetype="audio/mp4", size=10)

    await slack.event(dm_event(None, subtype="file_share", files=[shared]))

    assert recorder.messages[0].too_large is True
    assert recorder.messages[0].attachments == ()


async def test_a_forged_signature_is_rejected_and_nothing_reaches_the_core(
    slack: SlackRequests, recorder: RecordingHandler, fake_slack: FakeSlack
) -> None:
    response = await slack.event(dm_event("forged"), secret="not-the-signing-secret")

    assert response.status_code == 401
    assert recorder.messages == []
    assert fake_slack.posted() == []


async def test_a_request_signed_more_than_five_minutes_ago_is_rejected(
    slack: SlackRequests, recorder: RecordingHandler
) -> None:
    response = await slack.event(dm_event("replayed later"), timestamp=int(time.time()) - 6 * 60)

    assert response.status_code == 401
    assert recorder.messages == []


async def test_slacks_url_check_is_answered_with_its_challenge(
    slack: SlackRequests, recorder: RecordingHandler
) -> None:
    body = json.dumps(
        {
            "token": "legacy",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    ).encode()

    response = await slack.post("events", body, "application/json")

    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text
    assert recorder.messages == []


async def test_a_file_shared_without_a_download_url_is_looked_up_first(
    slack: SlackRequests, recorder: RecordingHandler, fake_slack: FakeSlack
) -> None:
    shared = fake_slack.add_file(b"voice", name="clip.webm", mimetype="audio/webm")
    hidden = {"id": shared["id"], "file_access": "check_file_info"}

    await slack.event(dm_event(None, subtype="file_share", files=[hidden]))

    assert [call.params["file"] for call in fake_slack.calls_to("files.info")] == [shared["id"]]
    [attachment] = recorder.messages[0].attachments
    assert (attachment.kind, attachment.data) == ("voice", b"voice")
