"""One answer reads the same everywhere: the prompt on Telegram and Slack, the web chat page,
the Slack App Home, the weekly digest, the review page, and the CSV and REFI-QDA exports."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from adapters.base import InboundMessage
from bot.channels.slack import home_view_for
from bot.channels.webchat import chat_history
from bot.clock import FrozenClock
from bot.core.conversation import Conversation
from bot.review.access import cli_viewer
from bot.review.exports import answer_text
from bot.review.exports.csv import write_csv
from bot.review.exports.refi import write_qdpx
from bot.review.search import Filters
from bot.services import Services
from digests.data import build_weekly
from digests.render import make_message, weekly_context
from digests.schedule import Week, schedule_for
from storage.models import Project, Reflection
from tests.support.participants import SCALE, make_delivery, make_person, make_project, seed

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)  # a Tuesday, in the project's phase
CHOICES = [{"value": "school", "label": "At school"}, {"value": "gp", "label": "From a GP"}]
PEOPLE = (("webchat", "ext-ana"), ("slack", "U0BEN"), ("telegram", "5151"))
TEAM = "T0CARBOT"


@dataclass
class Answers:
    services: Services
    project_id: int
    labels: list[str]  # what the core told each channel to show on the answered prompt


async def answered_by_three(services: Services, kind: str, tapped: str) -> Answers:
    """Three people, one on each channel, tap ``tapped`` on the same prompt."""
    options = SCALE if kind == "scale" else CHOICES

    async def build(session):  # type: ignore[no-untyped-def]
        rows = await make_project(session)
        deliveries = []
        for channel, external in PEOPLE:
            person, identity = await make_person(
                session, rows.project, name=f"P {external}", channel=channel,
                external_id=external, workspace=TEAM if channel == "slack" else "", now=NOW,
            )  # fmt: skip
            delivery = await make_delivery(
                session, person, rows, sent_at=NOW - timedelta(hours=1), kind=kind,
                text="How well does the hub reach new parents?", options=options,
                identity=identity,
            )  # fmt: skip
            deliveries.append(delivery.id)
        return rows.project.id, deliveries

    project_id, deliveries = await seed(services, build)
    conversation = Conversation(services.with_clock(FrozenClock(NOW)))
    labels = []
    for (channel, external), delivery_id in zip(PEOPLE, deliveries, strict=True):
        result = await conversation.handle(
            InboundMessage(
                channel=channel, event_id=f"tap-{delivery_id}", external_id=external,
                workspace=TEAM if channel == "slack" else None, received_at=NOW,
                choice=tapped, delivery_id=delivery_id,
            )
        )  # fmt: skip
        assert result.answered is not None
        labels.append(result.answered.label)
    return Answers(services, project_id, labels)


async def on_the_answered_prompt(answers: Answers) -> list[str]:
    return answers.labels  # Telegram shows "✓ <label>", Slack "✅ <label>", web chat the label


async def on_the_web_chat_page(answers: Answers) -> list[str]:
    async with answers.services.sessions() as session:
        page = await chat_history(session, "ext-ana", NOW)
    assert page is not None
    mine = [b.text for b in page.bubbles if b.sender == "me"]
    closed = [b.answered for b in page.bubbles if b.delivery_id is not None]
    return [*mine, *closed]  # type: ignore[list-item]


async def in_the_slack_app_home(answers: Answers) -> list[str]:
    view = await home_view_for(answers.services, TEAM, "U0BEN")
    return [answer.answer for answer in view.recent]


async def in_the_weekly_digest(answers: Answers) -> list[str]:
    async with answers.services.sessions() as session:
        project = await session.get(Project, answers.project_id)
        digest = await build_weekly(
            session, project, Week.containing(NOW.date()), ZoneInfo("Europe/London"),
            public_url="https://carbot.example", schedule=schedule_for({}),
        )  # fmt: skip
    shown = [label for r in digest.ratings for _, label, count in r.distribution if count]
    shown += [label for c in digest.choices for label, _ in c.counts]
    for body in bodies(make_message("weekly", "lead@example.org", weekly_context(digest))):
        assert all(label in body for label in shown)
    return shown


def bodies(message):  # type: ignore[no-untyped-def]
    return [part.get_content() for part in message.walk() if part.get_content_maintype() == "text"]


async def in_the_review_pages_answer(answers: Answers) -> list[str]:
    async with answers.services.sessions() as session:
        reflections = await session.scalars(
            select(Reflection).options(selectinload(Reflection.delivery)).order_by(Reflection.id)
        )
        # the review page's "Answer type" line, after "Scale: " / "Choice: "
        return [answer_text(r).split(": ", 1)[1] for r in reflections]


async def in_the_csv_export(answers: Answers) -> list[str]:
    out = io.StringIO()
    async with answers.services.sessions() as session:
        await write_csv(session, cli_viewer(), Filters(), out, safe_for_spreadsheets=False)
    return [row["answer"] for row in csv.DictReader(io.StringIO(out.getvalue()))]


async def in_the_refi_qda_export(answers: Answers) -> list[str]:
    out = io.BytesIO()
    async with answers.services.sessions() as session:
        await write_qdpx(session, cli_viewer(), Filters(), out, answers.services.settings.data_dir)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        texts = [archive.read(n).decode() for n in archive.namelist() if n.endswith(".txt")]
    return [text.split(": ", 1)[1] for text in texts]


Where = Callable[[Answers], Awaitable[list[str]]]
EVERYWHERE: list[Where] = [
    on_the_answered_prompt,
    on_the_web_chat_page,
    in_the_slack_app_home,
    in_the_weekly_digest,
    in_the_review_pages_answer,
    in_the_csv_export,
    in_the_refi_qda_export,
]


@pytest.mark.parametrize("where", EVERYWHERE, ids=lambda w: w.__name__)
@pytest.mark.parametrize(
    ("kind", "tapped", "label"),
    [("scale", "4", "4 — Quite well"), ("choice", "school", "At school")],
)
async def test_an_answer_reads_the_same_in_every_channel_digest_page_and_export(
    services: Services, where: Where, kind: str, tapped: str, label: str
) -> None:
    answers = await answered_by_three(services, kind, tapped)

    shown = await where(answers)

    assert shown and set(shown) == {label}
