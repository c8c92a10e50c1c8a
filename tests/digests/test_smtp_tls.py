"""Digests over an encrypted connection: STARTTLS and implicit TLS against aiosmtpd on loopback
with a certificate made for the test (the server refuses mail before STARTTLS), and a server
whose certificate is not trusted gets nothing."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot.engine.digest_jobs import digest_config, send_due_digests
from bot.services import Services
from digests.mail import SmtpMailer
from storage.models import Digest
from tests.conftest import make_settings
from tests.digests.conftest import Inbox, free_port
from tests.digests.test_smtp import SEND_TIME, _busy_week
from tests.support.schema import create_schema

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="making a test certificate needs the openssl tool"
)


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, valid for a day: made once for the module (an
    RSA key takes a good part of a second), only ever read."""
    folder = tmp_path_factory.mktemp("certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return Certificate(cert, key)


class TlsInbox(Inbox):
    """Also notes, for every message, whether it came over TLS."""

    def __init__(self) -> None:
        super().__init__()
        self.encrypted: list[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def serve(certificate: Certificate) -> Iterator[Any]:
    controllers: list[Controller] = []

    def start(security: str) -> tuple[TlsInbox, int]:
        inbox, port = TlsInbox(), free_port()
        if security == "ssl":
            controller = Controller(
                inbox, hostname="127.0.0.1", port=port, ssl_context=certificate.server_context()
            )
        else:  # STARTTLS offered and required before any mail
            controller = Controller(
                inbox,
                hostname="127.0.0.1",
                port=port,
                tls_context=certificate.server_context(),
                require_starttls=True,
            )
        controller.start()
        controllers.append(controller)
        return inbox, port

    yield start
    for controller in controllers:
        controller.stop()


async def _services(tmp_path: Path, port: int, security: str) -> Services:
    settings = make_settings(
        tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_security=security
    )
    services = Services.from_settings(settings)
    await create_schema(services.engine)
    await _busy_week(services)
    return services


@pytest.mark.parametrize("security", ["starttls", "ssl"])
async def test_a_digest_arrives_encrypted_with_smtp_security(
    security: str,
    serve: Any,
    certificate: Certificate,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))  # trust the test's certificate
    inbox, port = serve(security)
    services = await _services(tmp_path, port, security)

    sent = await send_due_digests(services, SEND_TIME)
    await services.close()

    assert sent == 1
    ((recipients, message),) = inbox.messages
    assert recipients == ["lead@example.org"]
    assert message["Subject"] == "Family hub approach: weekly digest for 8–14 March 2027"
    assert inbox.encrypted == [True]


async def test_without_starttls_the_server_takes_no_mail(serve: Any, tmp_path: Path) -> None:
    inbox, port = serve("starttls")
    services = await _services(tmp_path, port, "none")

    assert await send_due_digests(services, SEND_TIME) == 0
    async with services.sessions() as session:
        (digest,) = await session.scalars(select(Digest))
    await services.close()

    assert inbox.messages == []
    assert digest.status == "failed" and "STARTTLS" in str(digest.last_error)


async def test_a_server_whose_certificate_is_not_trusted_gets_no_digest(
    serve: Any, tmp_path: Path
) -> None:
    inbox, port = serve("starttls")
    services = await _services(tmp_path, port, "starttls")
    mailer = SmtpMailer(digest_config(services.settings), pauses=())

    assert await send_due_digests(services, SEND_TIME, mailer=mailer) == 0
    async with services.sessions() as session:
        (digest,) = await session.scalars(select(Digest))
    await services.close()

    assert inbox.messages == []
    assert digest.status == "failed" and digest.next_attempt_at is not None  # tried again later
    assert "CERTIFICATE_VERIFY_FAILED" in str(digest.last_error)
