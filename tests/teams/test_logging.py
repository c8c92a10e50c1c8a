"""What the Teams channel writes to the log never includes what a person wrote."""

from __future__ import annotations

import logging

import pytest

from adapters.base import InboundMessage, InboundResult
from tests.fakes.teams_connector import FakeConnector
from tests.teams.conftest import ALEX, Teams, activity


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
