"""Slack is acknowledged in time even when the core is slow, and a failure lets Slack retry."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

from adapters.base import InboundMessage, InboundResult, OutboundText
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import MakeSlack
from tests.slack.payloads import command_payload, dm_event, event_payload, sign


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


async def test_a_slow_core_does_not_hold_up_the_ack_and_its_reply_still_arrives(
    make_slack: MakeSlack, fake_slack: FakeSlack
) -> None:
    core = SlowCore()
    slack = await make_slack(core, ack_budget=0.05)
    body = json.dumps(event_payload(dm_event("A slow day"), "EvSlow")).encode()

    response = await slack.client.post(
        "/slack/events", content=body, headers={"Content-Type": "application/json", **sign(body)}
    )

    assert response.status_code == 200
    assert [m.event_id for m in core.started] == ["EvSlow"]
    assert core.finished == []
    core.release.set()
    await slack.settle()
    assert fake_slack.posted()[-1]["text"] == "Saved, at last."


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
