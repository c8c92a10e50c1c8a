"""Where digest emails go: an SMTP server (aiosmtplib), or ``.eml`` files in the outbox.

Both raise :class:`adapters.errors.SendFailed`; ``permanent`` says whether trying again could
help (a 5xx refusal: no; a timeout, a dropped connection or a 4xx: yes). The SMTP mailer retries
transient failures a few times with backoff before giving the error to the ledger, which
schedules a later attempt.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol

import aiosmtplib

from adapters.errors import SendFailed
from digests.config import DigestConfig
from storage.files import write_private

log = logging.getLogger(__name__)


class Mailer(Protocol):
    async def send(self, message: EmailMessage, name: str) -> str:
        """Send ``message``; return where it went (a server response or a file path).
        ``name`` is a stable file-safe name for the message. Raises :class:`SendFailed`."""


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(error.code >= 500 for error in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return False  # a wrong password is fixed by an admin; keep trying with backoff
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code >= 500
    return False


class SmtpMailer:
    def __init__(
        self, config: DigestConfig, pauses: Sequence[float] = (1.0, 4.0), timeout: float = 30.0
    ) -> None:
        self.config = config
        self.pauses = tuple(pauses)
        self.timeout = timeout

    async def send(self, message: EmailMessage, name: str) -> str:
        s = self.config
        attempt = 0
        while True:
            try:
                _, response = await aiosmtplib.send(
                    message,
                    hostname=s.smtp_host,
                    port=s.smtp_port,
                    username=s.smtp_username or None,
                    password=s.smtp_password if s.smtp_username else None,
                    use_tls=s.smtp_security == "ssl",
                    start_tls=s.smtp_security == "starttls",
                    timeout=self.timeout,
                )
                return response
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                permanent = _is_permanent(exc)
                if permanent or attempt >= len(self.pauses):
                    raise SendFailed(
                        f"SMTP {s.smtp_host}:{s.smtp_port}: {exc}", permanent=permanent
                    ) from exc
                log.info("SMTP send failed (%s); retrying in %ss", exc, self.pauses[attempt])
                await asyncio.sleep(self.pauses[attempt])
                attempt += 1


class OutboxMailer:
    """Writes each message as ``<name>.eml`` (atomically: a temp file, then a rename)."""

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = Path(outbox_dir)

    async def send(self, message: EmailMessage, name: str) -> str:
        return await asyncio.to_thread(self._write, message, name)

    def _write(self, message: EmailMessage, name: str) -> str:
        try:
            path = self.outbox_dir / f"{safe_name(name)}.eml"
            write_private(path, bytes(message))  # 0600 in a 0700 folder
        except OSError as exc:
            raise SendFailed(f"could not write to the outbox: {exc}") from exc
        return str(path)


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:180] or "digest"


def mailer_for(config: DigestConfig) -> Mailer:
    """SMTP when ``smtp_host`` is set, else the outbox folder (the demo default)."""
    if config.smtp_host:
        return SmtpMailer(config)
    return OutboxMailer(config.outbox_dir)


def mail_domain(mail_from: str) -> str:
    addresses = getaddresses([mail_from])
    address = addresses[0][1] if addresses else ""
    return address.rpartition("@")[2] or "carbot.localhost"
