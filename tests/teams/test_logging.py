"""What the Teams channel writes to the log never includes what a person wrote, and an activity
it cannot handle or read gets no traceback in the log."""

from __future__ import annotations

import logging

import pytest

from adapters.base import InboundMessage, InboundResult
from tests.fakes.stored import stored_data
from tests.fakes.teams_connector import FakeConnector
from tests.teams.conftest import ALEX, Teams, activity
from tests.teams.test_with_core import alex


def _own_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Log records above DEBUG from carbot, the SDK and the server (not the test's HTTP client)."""
    return [
        r
        for r in caplog.records
        if r.levelno > logging.DEBUG and not r.name.startswith(("httpx", "httpcore"))
    ]


def _logged(record: logging.LogRecord) -> str:
    """All a handler could write for ``record``: its message and any traceback."""
    text = record.getMessage()
    if record.exc_info:
        text += logging.Formatter().formatException(record.exc_info)
    return text + (record.exc_text or "") + (record.stack_info or "")


async def test_a_failing_activity_is_logged_without_the_persons_words(
    teams: Teams, connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(message: InboundMessage) -> InboundResult:
        # a database error's text quotes the statement's parameters: the person's words
        raise RuntimeError(f"INSERT failed [parameters: ({message.text!r},)]")

    teams.channel._handler = broken
    caplog.set_level(logging.DEBUG)
    caplog.clear()

    response = await teams.post(activity(connector, text="my private words", activity_id="f:4711"))

    records = _own_records(caplog)
    assert response.status_code == 500
    assert connector.posted(ALEX) == []
    [line] = [r for r in records if r.levelno >= logging.ERROR]
    assert "f:4711" in line.getMessage() and "RuntimeError" in line.getMessage()
    assert line.exc_info is None
    assert not any("my private words" in _logged(r) for r in records)


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", ["my private words"]), ("text", ["my private words"]), ("channelData", [])],
)
async def test_a_signed_activity_the_sdk_cannot_read_gets_400_and_a_log_line_without_its_content(
    teams: Teams,
    connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
    field: str,
    value: object,
) -> None:
    await alex(teams.services)
    before = await stored_data(teams.services)
    body = {**activity(connector, text="my private words"), field: value}
    caplog.set_level(logging.DEBUG)
    caplog.clear()

    response = await teams.post(body)

    records = _own_records(caplog)
    assert response.status_code == 400
    assert await stored_data(teams.services) == before
    assert connector.posted(ALEX) == []
    assert all(r.levelno < logging.ERROR and r.exc_info is None for r in records)
    assert not any("my private words" in _logged(r) for r in records)
