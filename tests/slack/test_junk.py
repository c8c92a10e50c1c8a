"""Junk sent to the Slack routes — unsigned, badly signed, malformed — gets a 4xx and one log
line without a traceback; none of it reaches the core."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tests.slack.conftest import RecordingHandler
from tests.slack.payloads import SlackRequests, dm_event, event_payload, sign

GOOD = json.dumps(event_payload(dm_event("hello"), "EvJunk")).encode()
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def _stamp() -> str:
    return str(int(time.time()))


JUNK: dict[str, tuple[str, bytes, dict[str, str | bytes]]] = {
    "no headers": ("events", GOOD, {"Content-Type": JSON}),
    "a timestamp that is not a number": (
        "events",
        GOOD,
        {"Content-Type": JSON, "X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
    ),
    "a timestamp in other digits": (
        "events",
        GOOD,
        {
            "Content-Type": JSON,
            "X-Slack-Request-Timestamp": "١٧٠٠".encode(),
            "X-Slack-Signature": "v0=0",
        },
    ),
    "a huge timestamp": (
        "events",
        GOOD,
        {"Content-Type": JSON, "X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0="},
    ),
    "no signature": (
        "commands",
        b"text=hi",
        {"Content-Type": FORM, "X-Slack-Request-Timestamp": _stamp()},
    ),
    "a wrong signature": (
        "interactivity",
        b"payload=%7B%7D",
        {"Content-Type": FORM, "X-Slack-Request-Timestamp": _stamp(), "X-Slack-Signature": "v0=ab"},
    ),
    "malformed JSON, unsigned": ("events", b'{"type": "event_callback",', {"Content-Type": JSON}),
    "invalid UTF-8, unsigned": ("events", b"\xff\xfe\xfa{}", {"Content-Type": JSON}),
    "invalid UTF-8 with a fresh timestamp": (
        "commands",
        b"text=\xc3\x28",
        {"Content-Type": FORM, "X-Slack-Request-Timestamp": _stamp(), "X-Slack-Signature": "v0=1"},
    ),
}


@pytest.mark.parametrize("case", list(JUNK))
async def test_junk_to_a_slack_route_gets_a_4xx_and_one_log_line_without_a_traceback(
    slack: SlackRequests, recorder: RecordingHandler, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    path, body, headers = JUNK[case]
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    response = await slack.client.post(f"/slack/{path}", content=body, headers=headers)
    await slack.settle()

    assert 400 <= response.status_code < 500
    # (httpx, the test's own client, logs each request it makes at INFO)
    warnings = [r for r in caplog.records if r.levelno >= logging.INFO and r.name != "httpx"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert all(r.exc_info is None and r.exc_text is None for r in caplog.records)
    assert recorder.messages == []


@pytest.mark.parametrize(
    "body", [b'{"type": "event_callback",', b"\xff\xfe{}", b"[1, 2]", b'"text"', b"{}"]
)
async def test_a_signed_but_malformed_body_is_refused_with_a_4xx_and_no_traceback(
    slack: SlackRequests, recorder: RecordingHandler, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = {"Content-Type": JSON, **sign(body)}
    response = await slack.client.post("/slack/events", content=body, headers=headers)
    await slack.settle()

    assert 400 <= response.status_code < 500
    assert all(r.exc_info is None for r in caplog.records)
    assert recorder.messages == []


@pytest.mark.parametrize("secret", ["", "   ", "\t\n"])
def test_an_http_mode_channel_with_a_blank_signing_secret_is_refused(secret: str) -> None:
    from adapters.slack import SlackChannel

    with pytest.raises(ValueError, match="CARBOT_SLACK_SIGNING_SECRET"):
        SlackChannel(bot_token="xoxb-1", mode="http", signing_secret=secret)
