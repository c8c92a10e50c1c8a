"""The bot's side of the weekly digests: settings in, ``digests`` out.

``digests`` depends on ``storage`` only, so the bot turns its settings into a
:class:`digests.config.DigestConfig` here and calls the digest loop with its own sessions.
"""

from __future__ import annotations

from datetime import datetime

from bot.services import Services
from bot.settings import Settings
from digests import send
from digests.config import DigestConfig
from digests.mail import Mailer


def digest_config(settings: Settings) -> DigestConfig:
    """The digests' view of carbot's settings."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return DigestConfig(
        outbox_dir=settings.outbox_dir,
        mail_from=settings.mail_from,
        public_url=settings.public_url,
        default_timezone=settings.default_timezone,
        data_dir=settings.data_dir,
        lease_seconds=settings.dispatch_lease_seconds,
        max_attempts=settings.dispatch_max_attempts,
        inline_photos=settings.digest_inline_photos,
        smtp_host=settings.smtp_host,
        smtp_port=settings.smtp_port,
        smtp_username=settings.smtp_username,
        smtp_password=password,
        smtp_security=settings.smtp_security,
    )


async def due_digests(services: Services, now: datetime) -> list[send.Due]:
    """Every lead and cross-partnership digest due at ``now`` and not yet settled."""
    return await send.due_digests(services.sessions, digest_config(services.settings), now)


async def send_due_digests(
    services: Services, now: datetime, *, mailer: Mailer | None = None
) -> int:
    """Send every digest due at ``now`` (SMTP, or the outbox without it); how many were sent."""
    config = digest_config(services.settings)
    return await send.send_due_digests(services.sessions, config, now, mailer=mailer)
