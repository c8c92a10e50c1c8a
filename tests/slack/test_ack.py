"""Slack is acknowledged in time even when the core is slow, and a failure lets Slack retry."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlencode

import pytest

from adapters.base import InboundMessage, InboundResult, OutboundText
from adapters.slack import blocks as kit
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import MakeSlack
from tests.slack.payloads import (
    SlackRequests,
    block_actions_payload,
    command_payload,
    dm_event,
    event_payload,
    sign,
    view_submission_payload,
)


class SlowCore:
    """A core that holds every message until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started: list[InboundMessage] = []
        self.finished: list[InboundMessage] = []

    async def __call__(self, message: InboundMessage) -> InboundResult:
        self.started.append(message)
        await self.release.wait()
        self.finished.append(message)
        return InboundResult(replies=[OutboundText("Saved, at last.")])


async def _post(slack: SlackRequests, path: str, body: bytes, content_type: str, **extra: str):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": content_type, **sign(body), **extra}
    return await slack.client.post(f"/slack/{path}", content=body, headers=headers)


async def test_a_dm_not_yet_stored_is_not_acknowledged_so_slack_redelivers_it_and_it_is_stored_once(
    make_slack: MakeSlack, fake_slack: FakeSlack
) -> None:
    core = SlowCore()
    slack = await make_slack(core, ack_budget=0.05)
    body = json.dumps(event_payload(dm_event("A slow day"), "EvSlow")).encode()
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}

    first = await _post(slack, "events", body, "application/json")
    while_running = await _post(slack, "events", body, "application/json", **retry)
    core.release.set()
    await slack.settle()
    after_commit = await _post(slack, "events", body, "application/json", **retry)

    # No ack until the core has committed: a crash meanwhile leaves Slack to redeliver.
    assert (first.status_code, while_running.status_code) == (500, 500)
    assert after_commit.status_code == 200
    assert [m.event_id for m in core.started] == ["EvSlow"]  # the retry waited, did not rerun
    assert [p["text"] for p in fake_slack.posted()] == ["Saved, at last."]


async def test_a_slow_modal_answer_keeps_the_modal_open_until_it_is_stored(
    make_slack: MakeSlack, fake_slack: FakeSlack
) -> None:
    core = SlowCore()
    slack = await make_slack(core, ack_budget=0.05)
    view = {"id": "VSLOW", "callback_id": "carbot_answer", "private_metadata": '{"d": 5}'}
    body = urlencode({"payload": json.dumps(view_submission_payload(view, "Long answer"))})
    form = "application/x-www-form-urlencoded"

    first = await _post(slack, "interactivity", body.encode(), form)
    core.release.set()
    await slack.settle()
    submitted_again = await _post(slack, "interactivity", body.encode(), form)

    # Slack shows its error in the still-open modal; the second Submit closes it.
    assert first.status_code == 500
    assert submitted_again.status_code == 200
    assert [m.event_id for m in core.started] == ["view:VSLOW"]


async def test_a_tap_that_fails_after_the_ack_is_owned_up_to_in_the_dm(
    make_slack: MakeSlack, fake_slack: FakeSlack
) -> None:
    release = asyncio.Event()

    async def failing_core(message: InboundMessage) -> InboundResult:
        await release.wait()
        raise RuntimeError("database went away")

    slack = await make_slack(failing_core, ack_budget=0.05)
    tap = block_actions_payload(
        {
            "action_id": f"{kit.CHOICE_ACTION}_0",
            "value": kit.choice_value("3", 41),
            "type": "button",
        }
    )
    body = urlencode({"payload": json.dumps(tap)}).encode()

    response = await _post(slack, "interactivity", body, "application/x-www-form-urlencoded")
    release.set()
    await slack.settle()

    assert response.status_code == 200
    assert "didn't go through" in fake_slack.posted()[-1]["text"]


async def test_a_slow_slash_command_is_acknowledged_and_answered_in_the_dm(
    make_slack: MakeSlack, fake_slack: FakeSlack
) -> None:
    core = SlowCore()
    slack = await make_slack(core, ack_budget=0.05)
    body = urlencode(command_payload("status")).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}

    response = await slack.client.post("/slack/commands", content=body, headers=headers)

    assert response.status_code == 200
    assert response.text == ""
    assert core.finished == []
    core.release.set()
    await slack.settle()
    assert fake_slack.posted()[-1]["text"] == "Saved, at last."


async def test_when_the_core_fails_slack_gets_an_error_and_its_retry_is_handled(
    make_slack: MakeSlack, fake_slack: FakeSlack
) -> None:
    calls: list[str] = []

    async def flaky_core(message: InboundMessage) -> InboundResult:
        calls.append(message.event_id)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return InboundResult(replies=[OutboundText("Saved.")])

    slack = await make_slack(flaky_core)
    event = dm_event("Try again")

    first = await slack.event(event, event_id="EvFlaky")
    retry = await slack.event(event, event_id="EvFlaky", retry_num=1)

    assert first.status_code == 500
    assert retry.status_code == 200
    assert calls == ["EvFlaky", "EvFlaky"]
    assert [p["text"] for p in fake_slack.posted()] == ["Saved."]


async def test_a_failing_slack_request_is_logged_by_its_error_kind_never_by_what_was_written(
    make_slack: MakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_core(message: InboundMessage) -> InboundResult:
        raise RuntimeError(f"INSERT failed [parameters: ({message.text!r},)]")

    caplog.set_level(logging.DEBUG)
    slack = await make_slack(broken_core)
    response = await slack.event(dm_event("my private words"), event_id="EvBroken")

    assert response.status_code == 500
    above_debug = [r for r in caplog.records if r.levelno > logging.DEBUG]
    [failed] = [r for r in above_debug if r.getMessage().startswith("handling a Slack request")]
    assert "RuntimeError" in failed.getMessage() and failed.exc_info is None
    assert not any("my private words" in r.getMessage() for r in above_debug)


async def test_a_burst_of_30_dms_is_all_acknowledged_within_3_seconds_and_answered_after_in_order(
    make_slack: MakeSlack, fake_slack: FakeSlack
) -> None:
    stored: list[str] = []

    async def core(message: InboundMessage) -> InboundResult:
        stored.append(message.text or "")
        return InboundResult(replies=[OutboundText(f"Saved: {message.text}")])

    pace = 0.2  # seconds between two replies to one person (1 in production): 6 s for 30
    slack = await make_slack(core, post_interval=pace)
    bodies = [json.dumps(event_payload(dm_event(f"note {n}"))).encode() for n in range(30)]

    async def send(body: bytes) -> tuple[int, float]:
        response = await _post(slack, "events", body, "application/json")
        return response.status_code, time.monotonic() - started

    started = time.monotonic()
    acks = await asyncio.gather(*(send(body) for body in bodies))
    replied_by_last_ack = len(fake_slack.posted())
    await slack.settle()

    assert [status for status, _ in acks] == [200] * 30
    assert max(seconds for _, seconds in acks) < 3.0
    assert replied_by_last_ack < 30 * 0.5  # the replies go out after the acks, at their pace
    assert sorted(stored) == sorted(f"note {n}" for n in range(30))
    assert [p["text"] for p in fake_slack.posted()] == [f"Saved: {text}" for text in stored]
