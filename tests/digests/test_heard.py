"""'What we heard': one short chat message per participant at the end of the week."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from adapters.errors import DeliveryError
from bot.engine.heard import send_what_we_heard
from storage.db import transaction
from storage.models import ChannelIdentity, Digest
from tests.digests.factory import MONDAY, add_reflection, add_team, at
from tests.digests.helpers import HEARD_TIME, RecordingChannel


async def _week_of_reflections(services: Any, audience: str = "team") -> Any:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=3)
        for index, member in enumerate(team.members):
            await add_reflection(
                session,
                team,
                member,
                f"Waiting times at the hub came up again ({index})",
                audience=audience,
            )
    return team


async def test_each_participant_gets_themes_quotes_and_two_buttons_once(services: Any) -> None:
    team = await _week_of_reflections(services)
    channel = RecordingChannel()

    sent = await send_what_we_heard(services, {"webchat": channel}, HEARD_TIME)
    again = await send_what_we_heard(
        services, {"webchat": channel}, HEARD_TIME + timedelta(hours=2)
    )

    assert (sent, again) == (3, 0)
    async with services.sessions() as session:
        rows = list(await session.scalars(select(Digest).order_by(Digest.id)))
    assert [r.recipient for r in rows] == [f"person:{m.id}" for m in team.members]
    assert {(r.kind, r.scope, r.period, r.status) for r in rows} == {
        ("what_we_heard", "project:family-hub", "2027-W10", "sent")
    }
    recipient, message = channel.sent[0]
    assert recipient.external_id.startswith("ext-")
    assert "What we heard this week in Family hub approach" in message.text
    assert "waiting times" in message.text.lower()
    assert '"Waiting times at the hub came up again' in message.text
    assert [c.label for c in message.choices] == ["That's right", "Not quite"]
    assert [c.value for c in message.choices] == [
        f"heard:{rows[0].id}:yes",
        f"heard:{rows[0].id}:no",
    ]
    assert all(m.name not in message.text for m in team.members)


async def test_nothing_goes_out_before_friday_afternoon_or_in_a_silent_week(
    services: Any,
) -> None:
    async with transaction(services.sessions) as session:
        await add_team(session, members=2)
    channel = RecordingChannel()

    assert await send_what_we_heard(services, {"webchat": channel}, HEARD_TIME) == 0
    assert channel.sent == []


async def test_it_waits_for_friday_three_pm_in_the_participants_zone(services: Any) -> None:
    await _week_of_reflections(services)
    channel = RecordingChannel()

    early = at(MONDAY + timedelta(days=4), 14, 50)
    assert await send_what_we_heard(services, {"webchat": channel}, early) == 0
    assert await send_what_we_heard(services, {"webchat": channel}, HEARD_TIME) == 3


async def test_anonymous_quotes_from_fewer_than_three_people_are_not_sent(services: Any) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=3)
        a, b, c = team.members
        await add_reflection(
            session, team, a, "secret worry about rotas", audience="team_anonymous"
        )
        await add_reflection(session, team, b, "another quiet worry", audience="team_anonymous")
        await add_reflection(session, team, c, "The new leaflet works", audience="team")
    channel = RecordingChannel()

    await send_what_we_heard(services, {"webchat": channel}, HEARD_TIME)

    text = channel.sent[0][1].text
    assert "The new leaflet works" in text
    assert "rotas" not in text and "quiet worry" not in text
    assert "2 anonymous ones kept back to protect anonymity" in text


async def test_private_and_researcher_only_reflections_are_never_quoted(services: Any) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=3)
        a, b, c = team.members
        await add_reflection(session, team, a, "only for me", audience="private")
        await add_reflection(session, team, b, "only for researchers", audience="researchers")
        await add_reflection(session, team, c, "for the team", audience="team")
    channel = RecordingChannel()

    await send_what_we_heard(services, {"webchat": channel}, HEARD_TIME)

    for _, message in channel.sent:
        assert "for the team" in message.text
        assert "only for me" not in message.text and "only for researchers" not in message.text


async def test_people_without_an_identity_on_a_running_channel_are_skipped(services: Any) -> None:
    team = await _week_of_reflections(services)
    async with transaction(services.sessions) as session:
        identity = await session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.person_id == team.members[0].id)
        )
        assert identity is not None
        identity.status = "unreachable"
    channel = RecordingChannel()

    assert await send_what_we_heard(services, {"webchat": channel}, HEARD_TIME) == 2
    assert await send_what_we_heard(services, {"telegram": channel}, HEARD_TIME) == 0


async def test_a_failed_chat_send_is_recorded_and_retried(services: Any) -> None:
    await _week_of_reflections(services)
    channel = RecordingChannel(fail_with=DeliveryError("timed out"))

    assert await send_what_we_heard(services, {"webchat": channel}, HEARD_TIME) == 0
    async with services.sessions() as session:
        rows = list(await session.scalars(select(Digest)))
    assert {(r.status, r.last_error) for r in rows} == {("failed", "webchat: timed out")}

    channel.fail_with = None
    assert (
        await send_what_we_heard(services, {"webchat": channel}, HEARD_TIME + timedelta(minutes=5))
        == 3
    )
    assert len(channel.sent) == 3


async def test_a_chat_that_blocked_the_bot_is_given_up_on_as_mail_would_be(services: Any) -> None:
    await _week_of_reflections(services)
    channel = RecordingChannel(fail_with=DeliveryError("blocked by the user", permanent=True))

    assert await send_what_we_heard(services, {"webchat": channel}, HEARD_TIME) == 0
    channel.fail_with = None
    later = HEARD_TIME + timedelta(hours=6)
    assert await send_what_we_heard(services, {"webchat": channel}, later) == 0
    async with services.sessions() as session:
        rows = list(await session.scalars(select(Digest)))
    assert {(r.status, r.next_attempt_at) for r in rows} == {("failed", None)}
    assert channel.sent == []
