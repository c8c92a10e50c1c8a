"""Time spent in aggregate: a project's median minutes per participant per month, in the lead's
digest and on the participation page, never per named person, held back for fewer than three."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.review.access import cli_viewer
from bot.review.dashboard import participation
from digests.data import build_weekly
from digests.render import make_message, weekly_context
from digests.schedule import Week, schedule_for
from digests.timespent import project_medians
from storage.db import transaction
from tests.digests.factory import MONDAY, WEEK, add_delivery, add_reflection, add_team, at
from tests.digests.helpers import bodies

LONDON = ZoneInfo("Europe/London")


async def _team(services: Any, answered_after_minutes: list[int | None]) -> Any:
    """One prompt each on Tuesday 9 March at 10:00; None: not answered (expired)."""
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=len(answered_after_minutes))
        sent = at(MONDAY + timedelta(days=1), 10)
        for person, after in zip(team.members, answered_after_minutes, strict=True):
            delivery = await add_delivery(
                session, team, person, sent, status="expired" if after is None else "answered"
            )
            delivery.sent_at = sent
            if after is not None:
                delivery.answered_at = sent + timedelta(minutes=after)
                await add_reflection(
                    session, team, person, "an answer", delivery=delivery, audience="researchers"
                )
    return team


async def test_the_median_minutes_per_participant_counts_everyone_asked(services: Any) -> None:
    # 3, 6 and 1 minutes from prompt to answer, and one not answered: median of 0, 1, 3, 6
    team = await _team(services, [3, 6, 1, None])
    async with services.sessions() as session:
        [march] = (await project_medians(session, [team.project.id], LONDON))[team.project.id]
        [page] = await participation(session, cli_viewer(), MONDAY + timedelta(days=2))
        digest = await build_weekly(
            session, team.project, Week.parse(WEEK), LONDON,
            public_url="https://carbot.example", schedule=schedule_for({}),
        )  # fmt: skip
    assert (march.month.isoformat(), march.people, march.median_minutes) == ("2027-03-01", 4, 2.0)
    assert page.time == [march]
    assert digest.engagement.month_minutes == 2.0
    for text in bodies(make_message("weekly", "lead@example.org", weekly_context(digest))):
        assert "Time spent in March 2027 so far: a median of 2 minutes per participant" in text
        for person in team.members:
            assert person.name not in text


async def test_fewer_than_three_participants_hold_the_month_back(services: Any) -> None:
    team = await _team(services, [3, 6])
    async with services.sessions() as session:
        [march] = (await project_medians(session, [team.project.id], LONDON))[team.project.id]
        digest = await build_weekly(
            session, team.project, Week.parse(WEEK), LONDON,
            public_url="https://carbot.example", schedule=schedule_for({}),
        )  # fmt: skip
    assert (march.people, march.median_minutes) == (2, None)
    for text in bodies(make_message("weekly", "lead@example.org", weekly_context(digest))):
        assert "Time spent" not in text
