"""What the digests need to know about the installation, in one plain value.

``digests`` depends on ``storage`` only (DESIGN.md), so it never reads carbot's settings
itself: the bot builds a :class:`DigestConfig` from its settings and hands it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

SmtpSecurity = Literal["starttls", "ssl", "none"]


@dataclass(frozen=True)
class DigestConfig:
    """Where digests go and how they are built.

    Without ``smtp_host`` the emails are written as ``.eml`` files to ``outbox_dir``."""

    outbox_dir: Path = Path("var/outbox")
    mail_from: str = "carbot <carbot@localhost>"
    public_url: str = "http://127.0.0.1:8000"
    default_timezone: str = "Europe/London"
    data_dir: Path = Path("var/data")
    lease_seconds: int = 120
    max_attempts: int = 5
    inline_photos: bool = False
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_security: SmtpSecurity = "starttls"
