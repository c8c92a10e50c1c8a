"""Which channels this process runs: web chat always; Telegram and Slack when configured.

``build_channels(services, clock=...)`` returns the channels, not yet started; ``carbot run``
starts each with the conversation core's handler and mounts their routes on the web app.
"""

from __future__ import annotations

import logging

from adapters.base import Channel
from bot.clock import Clock
from bot.engine.slack_wiring import slack_channel
from bot.engine.telegram_wiring import telegram_channel
from bot.services import Services
from bot.web.webchat import webchat_channel

log = logging.getLogger(__name__)


def build_channels(services: Services, *, clock: Clock | None = None) -> list[Channel]:
    """The channels whose settings are present, web chat first."""
    channels: list[Channel] = [webchat_channel(services, clock=clock)]
    telegram = telegram_channel(services.settings)
    if telegram is not None:
        channels.append(telegram)
    slack = slack_channel(services, clock=clock)
    if slack is not None:
        channels.append(slack)
    names = ", ".join(channel.name for channel in channels)
    log.info("channels: %s", names)
    return channels
