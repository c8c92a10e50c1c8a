"""The chat half of "what we heard": ``digests.heard`` decides who is due and what to say; this
module sends it through each participant's channel, with the two answer buttons."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from adapters.base import Channel, OutboundText, Recipient
from bot.core import texts
from bot.engine.digest_jobs import digest_config
from bot.services import Services
from digests import heard


async def send_what_we_heard(
    services: Services, channels: Mapping[str, Channel], now: datetime
) -> int:
    """Send each participant's "what we heard" that is due at ``now``; how many were sent."""

    async def deliver(due: heard.HeardDue, text: str, digest_id: int) -> str:
        recipient = Recipient(due.identity_id, due.external_id, due.workspace)
        message = OutboundText(text, texts.heard_choices(digest_id))
        sent = await channels[due.channel].send_text(recipient, message)  # or DeliveryError
        return sent.ref

    return await heard.send_what_we_heard(
        services.sessions, digest_config(services.settings), list(channels), deliver, now
    )
