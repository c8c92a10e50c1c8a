"""Which channels this process runs: web chat always; Telegram and Slack when configured.

``build_channels(services)`` returns the channels, not yet started; ``carbot run``
starts each with the conversation core's handler and mounts their routes on the web app.
"""

from __future__ import annotations

import logging

from adapters.base import Channel
from bot.channels_teams import teams_channels, teams_problems
from bot.engine.slack_wiring import slack_channel
from bot.engine.telegram_wiring import telegram_channel
from bot.services import Services
from bot.settings import Settings, blank_settings
from bot.web.webchat import webchat_channel

log = logging.getLogger(__name__)


def missing_channel_settings(settings: Settings) -> list[str]:
    """What a half-configured channel lacks, one plain sentence each; empty when all is well.

    A channel is configured by its token; once the token is set, the settings its mode needs
    must be set too, or ``carbot run`` refuses to start (rather than dying half-way). A
    setting given as blank or whitespace counts as a problem of its own, not as set.
    """
    problems = blank_settings(settings)
    if problems:
        return problems
    if settings.slack_bot_token is not None:
        if settings.slack_mode == "socket" and settings.slack_app_token is None:
            problems.append(
                "Slack in socket mode needs CARBOT_SLACK_APP_TOKEN (an app-level token, xapp-…) "
                "as well as CARBOT_SLACK_BOT_TOKEN; or set CARBOT_SLACK_MODE=http"
            )
        if settings.slack_mode == "http" and settings.slack_signing_secret is None:
            problems.append(
                "Slack in http mode needs CARBOT_SLACK_SIGNING_SECRET "
                "as well as CARBOT_SLACK_BOT_TOKEN"
            )
    elif settings.slack_app_token is not None or settings.slack_signing_secret is not None:
        problems.append(
            "Slack needs CARBOT_SLACK_BOT_TOKEN (xoxb-…); the other Slack settings are set"
        )
    if settings.telegram_token is not None and settings.telegram_mode == "webhook":
        if settings.telegram_webhook_secret is None:
            problems.append(
                "Telegram in webhook mode needs CARBOT_TELEGRAM_WEBHOOK_SECRET "
                "(any long random string); or set CARBOT_TELEGRAM_MODE=polling"
            )
        if not (settings.telegram_webhook_url or settings.public_url):
            problems.append(
                "Telegram in webhook mode needs CARBOT_TELEGRAM_WEBHOOK_URL or CARBOT_PUBLIC_URL"
            )
    problems += teams_problems(settings)
    return problems


def build_channels(services: Services) -> list[Channel]:
    """The channels whose settings are present, web chat first (on ``services.clock``)."""
    channels: list[Channel] = [webchat_channel(services)]
    telegram = telegram_channel(services.settings)
    if telegram is not None:
        channels.append(telegram)
    slack = slack_channel(services)
    if slack is not None:
        channels.append(slack)
    channels += teams_channels(services)
    names = ", ".join(channel.name for channel in channels)
    log.info("channels: %s", names)
    return channels
