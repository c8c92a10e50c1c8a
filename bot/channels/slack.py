"""Slack on carbot's side: the channel built from the settings, its configuration problems, the
App Home's data read from the database (the adapter itself never touches it), linking people by
their Slack email (:mod:`bot.channels.slack_link`) and the ``carbot slack`` commands. Bolt and
slack_sdk are imported only when a Slack bot token is set: a worker without Slack does not carry
them."""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from adapters import actions
from adapters.base import Channel
from bot.channels import ChannelPlugin, StepRun
from bot.channels.slack_link import EmailLinker
from bot.core import texts
from bot.core.people import active_projects, default_audience, person_zone
from bot.services import Services
from bot.settings import Settings
from prompts.choices import reflection_label
from storage.models import Delivery, Person, Reflection
from storage.queries import channel_identity

if TYPE_CHECKING:
    from adapters.slack import HomeView, SlackChannel

log = logging.getLogger(__name__)

RECENT_ANSWERS = 5


def _answer_text(reflection: Reflection) -> str:
    """An answer in the App Home: as every channel shows it ("4 — Quite well"), then any words
    added to a rating or choice, then how many files came with it."""
    delivery = reflection.delivery
    shown = reflection_label(reflection, delivery.prompt_options if delivery else None)
    if reflection.kind in ("scale", "choice") and reflection.text and shown != reflection.text:
        shown = f"{shown} — {reflection.text}" if shown else reflection.text
    if reflection.attachments:
        count = len(reflection.attachments)
        files = f"📎 {count} file{'s' if count > 1 else ''}"
        shown = f"{shown} ({files})" if shown else files
    return shown or "(no text)"


async def home_view_for(services: Services, team: str | None, user: str) -> HomeView:
    """What the App Home shows the Slack user ``user`` of workspace ``team``."""
    from adapters.slack import HomeView, RecentAnswer

    now = services.clock.now()
    async with services.sessions() as session:
        identity = await channel_identity(session, "slack", user, team)
        person = await session.get(Person, identity.person_id) if identity else None
        if person is None or not person.active:
            return HomeView(name=None)
        if person.withdrawn_at is not None:
            return HomeView(name=person.name, withdrawn=True)
        zone = await person_zone(session, person, services.settings.default_timezone)
        today: date = now.astimezone(zone).date()
        upcoming = await session.scalar(
            select(Delivery)
            .options(selectinload(Delivery.project))
            .where(Delivery.person_id == person.id, Delivery.status == "planned")
            .order_by(Delivery.due_at)
            .limit(1)
        )
        next_prompt = None
        if upcoming is not None:
            when = texts.human_time(upcoming.due_at.astimezone(zone))
            next_prompt = f"{when} · {upcoming.project.name}"
        projects = await active_projects(session, person)
        audience = await default_audience(session, person, projects[0] if projects else None)
        reflections = await session.scalars(
            select(Reflection)
            .options(selectinload(Reflection.delivery), selectinload(Reflection.attachments))
            .where(Reflection.person_id == person.id)
            .order_by(Reflection.created_at.desc(), Reflection.id.desc())
            .limit(RECENT_ANSWERS)
        )
        recent = tuple(
            RecentAnswer(
                when=texts.human_date(r.created_at.astimezone(zone).date()),
                question=r.delivery.prompt_text if r.delivery else "Note",
                answer=_answer_text(r),
                audience=texts.AUDIENCE_SHORT[r.audience],
            )
            for r in reflections
        )
        paused = (
            person.paused_until if person.paused_until and person.paused_until >= today else None
        )
        return HomeView(
            name=person.name,
            next_prompt=next_prompt,
            paused_until=texts.human_date(paused) if paused else None,
            audience=actions.encode(actions.SetAudience(audience)),
            audience_options=texts.audience_choices(),
            recent=recent,
        )


def slack_channel(services: Services) -> SlackChannel | None:
    """The Slack channel the settings describe; None when no bot token is set."""
    settings = services.settings
    if settings.slack_bot_token is None:
        return None
    from adapters.slack import SlackChannel  # the SDK, imported only now

    async def home_provider(team: str | None, user: str) -> HomeView:
        return await home_view_for(services, team, user)

    return SlackChannel(
        bot_token=settings.slack_bot_token.get_secret_value(),
        mode=settings.slack_mode,
        app_token=settings.slack_app_token.get_secret_value() if settings.slack_app_token else None,
        signing_secret=(
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else None
        ),
        api_base_url=settings.slack_api_base_url,
        max_upload_bytes=settings.max_upload_bytes,
        home_provider=home_provider,
        now=services.clock.now,
    )


def problems(settings: Settings) -> list[str]:
    """What the Slack settings lack; a channel is configured by its bot token."""
    if settings.slack_bot_token is None:
        if settings.slack_app_token is not None or settings.slack_signing_secret is not None:
            return ["Slack needs CARBOT_SLACK_BOT_TOKEN (xoxb-…); the other Slack settings are set"]
        return []
    from adapters.slack import configuration_problems

    return configuration_problems(
        settings.slack_mode,
        settings.slack_app_token.get_secret_value() if settings.slack_app_token else None,
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None,
    )


def steps(services: Services, channel: Channel) -> list[tuple[str, StepRun]]:
    """Linking people by their Slack email, when ``CARBOT_SLACK_LINK_BY_EMAIL`` is on."""
    from adapters.slack import SlackChannel

    if isinstance(channel, SlackChannel) and services.settings.slack_link_by_email:
        return [("slack-link-by-email", EmailLinker(services, channel).run)]
    return []


def _commands() -> click.Command:
    from bot.channels.slack_cli import slack

    return slack


PLUGIN = ChannelPlugin(
    name="slack",
    build=slack_channel,
    problems=problems,
    steps=steps,
    commands=lambda: (_commands(),),
)
