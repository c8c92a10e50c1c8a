"""When digests are due: Monday 08:00 in the recipient's zone unless the study or project says
otherwise, for the previous ISO week; empty weeks send a note or nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.engine.digest_jobs import due_digests, send_due_digests
from digests import send
from digests.schedule import Week, heard_period_due, schedule_for, weekly_period_due
from storage.db import transaction
from storage.models import Digest
from tests.digests.factory import MONDAY, add_reflection, add_study, add_team, at
from tests.digests.helpers import outbox_messages

LONDON = ZoneInfo("Europe/London")


def test_the_default_is_monday_eight_for_the_previous_week() -> None:
    schedule = schedule_for({})
    monday = datetime(2027, 3, 15, 8, 0, tzinfo=UTC)  # GMT

    assert weekly_period_due(schedule, LONDON, monday - timedelta(seconds=1)) is None
    assert weekly_period_due(schedule, LONDON, monday) == Week.parse("2027-W10")
    assert weekly_period_due(schedule, LONDON, monday + timedelta(days=5)) == Week.parse("2027-W10")


def test_monday_eight_follows_british_summer_time() -> None:
    schedule = schedule_for({})
    # the clocks went forward on Sunday 28 March 2027: 08:00 BST is 07:00 UTC
    assert weekly_period_due(schedule, LONDON, datetime(2027, 3, 29, 6, 59, tzinfo=UTC)) is None
    assert weekly_period_due(
        schedule, LONDON, datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    ) == Week.parse("2027-W12")


def test_a_project_overrides_the_study_schedule_key_by_key() -> None:
    schedule = schedule_for(
        {"digest": {"weekday": "tuesday", "time": "09:30", "empty_week": "skip"}},
        {"time": 480},  # YAML 1.1 reads an unquoted 08:00 as 480 minutes
    )
    assert (schedule.weekday, schedule.at, schedule.empty_week) == (1, time(8, 0), "skip")
    assert (schedule.heard_weekday, schedule.heard_at) == (4, time(15, 0))


def test_bad_schedule_options_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="weekday"):
        schedule_for({"digest": {"weekday": "someday"}})
    with pytest.raises(ValueError, match="empty_week"):
        schedule_for({"digest": {"empty_week": "maybe"}})
    with pytest.raises(ValueError, match="2027-W10"):
        Week.parse("March 2027")


def test_weeks_read_as_people_say_them() -> None:
    assert Week.parse("2027-W10").span_text() == "8–14 March 2027"
    assert Week.parse("2027-W13").span_text() == "29 March – 4 April 2027"
    assert Week.parse("2026-W53").span_text() == "28 Dec 2026 – 3 Jan 2027"
    assert heard_period_due(
        schedule_for({}), LONDON, datetime(2027, 3, 12, 15, 0, tzinfo=UTC)
    ) == Week.parse("2027-W10")


async def test_a_lead_in_another_zone_gets_the_digest_at_eight_their_time(services: Any) -> None:
    async with transaction(services.sessions) as session:
        await add_study(session)
        await add_team(session, lead_timezone="America/Toronto")
    eight_in_london = at(MONDAY + timedelta(days=7), 8, 0)

    assert await due_digests(services, eight_in_london) == []
    (due,) = await due_digests(services, at(MONDAY + timedelta(days=7), 13, 0))  # 08:00 EST
    assert due.key.period == "2027-W10" and due.zone.key == "America/Toronto"


async def test_a_project_schedule_moves_its_digest(services: Any) -> None:
    async with transaction(services.sessions) as session:
        await add_study(session, digest={"weekday": "wed", "time": "07:00"})
        await add_team(session, digest={"weekday": "tue"})

    assert await due_digests(services, at(MONDAY + timedelta(days=7), 9)) == []
    (due,) = await due_digests(services, at(MONDAY + timedelta(days=8), 7))
    assert due.key.scope == "project:family-hub"


async def test_an_empty_week_sends_a_short_note_by_default(services: Any) -> None:
    async with transaction(services.sessions) as session:
        await add_study(session)
        await add_team(session)

    assert await send_due_digests(services, at(MONDAY + timedelta(days=7), 9)) == 1
    (message,) = outbox_messages(services.settings.outbox_dir)
    assert "a quiet week" in message["Subject"]


async def test_an_empty_week_sends_nothing_when_the_study_says_skip(services: Any) -> None:
    async with transaction(services.sessions) as session:
        await add_study(session, digest={"empty_week": "skip"})
        quiet = await add_team(session)
        busy = await add_team(session, slug="busy", name="Busy project", lead_email="b@example.org")
        await add_reflection(session, busy, busy.members[0], "Something happened")
    assert quiet.project.slug == "family-hub"

    assert await send_due_digests(services, at(MONDAY + timedelta(days=7), 9)) == 1
    (message,) = outbox_messages(services.settings.outbox_dir)
    assert message["To"] == "b@example.org"


async def test_a_skipped_empty_week_is_recorded_once_and_never_built_again(
    services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with transaction(services.sessions) as session:
        await add_study(session, digest={"empty_week": "skip"})
        await add_team(session)
    builds: list[str] = []
    real_build = send._build

    async def counted_build(*args: Any) -> Any:
        builds.append(args[2].key.period)
        return await real_build(*args)

    monkeypatch.setattr(send, "_build", counted_build)
    monday_nine = at(MONDAY + timedelta(days=7), 9)

    # two workers on the same tick, then every 15 minutes for the rest of the week
    sent = await asyncio.gather(
        send_due_digests(services, monday_nine), send_due_digests(services, monday_nine)
    )
    for tick in range(1, 4 * 24 * 6):
        sent.append(await send_due_digests(services, monday_nine + timedelta(minutes=15 * tick)))

    assert set(sent) == {0}
    assert builds == ["2027-W10"]  # built once, by the worker that claimed it
    async with services.sessions() as session:
        (digest,) = await session.scalars(select(Digest))
    assert (digest.kind, digest.period, digest.status) == ("lead_weekly", "2027-W10", "skipped")
    assert "empty week" in digest.summary["skipped"]
    assert digest.sent_at is None
    assert outbox_messages(services.settings.outbox_dir) == []
