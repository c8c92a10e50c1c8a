"""Fixtures for the digest tests: a real SMTP server on loopback, and a week of a team's work."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.services import Services
from bot.settings import Settings
from tests.conftest import make_settings
from tests.review.test_browser import browser  # noqa: F401 (headless Chromium, as in review)
from tests.support.schema import create_schema


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Inbox:
    """What the SMTP server received: one entry per accepted message."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse_next: list[str] = field(default_factory=list)  # SMTP replies to give instead

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_next:
            return self.refuse_next.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(inbox, port)
    finally:
        controller.stop()


@pytest.fixture
async def smtp_services(settings: Settings, smtp_server: SmtpServer, tmp_path: Any) -> Any:
    """Services whose settings send mail to the loopback SMTP server."""

    smtp_settings = make_settings(
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        mail_from="carbot <digests@carbot.example>",
    )
    services = Services.from_settings(smtp_settings)
    await create_schema(services.engine)
    yield services
    await services.close()


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a digest."""
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return str(plain.get_content()), str(html.get_content())
