"""End to end: Teams (the real SDK, a fake Bot Connector) → the conversation core → the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.actions import SetAudience
from adapters.teams.manifest import COMMANDS
from bot.core.onboarding import issue_link_code
from bot.services import Services
from storage.models import ChannelIdentity, ConsentRecord, Person, Reflection
from tests.fakes.teams_connector import TENANT, FakeConnector
from tests.support.participants import make_participant, make_project, seed
from tests.teams.conftest import ALEX, Teams, activity, buttons, shown, tapped, teams_world

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)


async def count(services: Services, model: type, *where: Any) -> int:
    async with services.sessions() as session:
        query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await session.scalar(query) or 0)


async def code_for_sam(services: Services) -> str:
    async def build(session):  # type: ignore[no-untyped-def]
        await make_project(session)
        person = Person(key="sam", study_code="P9001", name="Sam", email="Sam@Example.org")
        session.add(person)
        await session.flush()
        return await issue_link_code(
            session, person, channel="teams", ttl=timedelta(days=7), now=datetime.now(UTC)
        )

    return await seed(services, build)


async def test_someone_links_with_a_code_and_agrees_with_a_button_on_the_card(
    teams: Teams, connector: FakeConnector
) -> None:
    code = await code_for_sam(teams.services)

    response = await teams.say(f"link {code}")

    assert response.status_code == 200
    async with teams.services.sessions() as session:
        identity = await session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.channel == "teams")
        )
    assert identity is not None
    assert (identity.workspace, identity.external_id) == (TENANT, ALEX)
    consent = connector.posted(ALEX)[-1]
    assert [b["title"] for b in buttons(consent)] == ["I agree", "No thanks"]
    assert await count(teams.services, ConsentRecord) == 0
    consent_id = list(connector.activities)[-1]

    await teams.tap(buttons(consent)[0]["data"], reply_to=consent_id)

    assert await count(teams.services, ConsentRecord) == 1
    [(updated, card)] = connector.updates()
    assert updated == consent_id
    assert "I agree" in shown(card)
    assert buttons(card) == []


async def alex(services: Services, **person: Any) -> tuple[Any, Any, Any]:
    async def build(session):  # type: ignore[no-untyped-def]
        return await make_participant(
            session,
            name="Alex Reid",
            channel="teams",
            workspace=TENANT,
            external_id=ALEX,
            now=NOW,
            **person,
        )

    return await seed(services, build)


@pytest.mark.parametrize("command", [c.title for c in COMMANDS] + ["mydata", "time"])
async def test_every_command_works_typed_as_text(
    teams: Teams, connector: FakeConnector, command: str
) -> None:
    await alex(teams.services)

    response = await teams.say(command)

    assert response.status_code == 200
    reply = connector.posted(ALEX)[-1]
    assert "don't know the command" not in shown(reply)
    assert shown(reply).strip()


async def test_pause_typed_in_the_chat_pauses_questions(
    teams: Teams, connector: FakeConnector
) -> None:
    _rows, person, _identity = await alex(teams.services)

    await teams.say("pause 2 weeks")

    async with teams.services.sessions() as session:
        paused = await session.get(Person, person.id)
    assert paused is not None and paused.paused_until is not None
    assert "pause" in shown(connector.posted(ALEX)[-1]).lower()


async def test_a_stranger_is_told_how_to_sign_up_and_nothing_is_kept(
    teams: Teams, connector: FakeConnector
) -> None:
    await teams.say("hello?")

    assert "link" in shown(connector.posted(ALEX)[-1]).lower()
    assert await count(teams.services, ChannelIdentity) == 0
    assert await count(teams.services, Reflection) == 0


async def test_installing_the_app_greets_the_person_with_how_to_sign_up(
    teams: Teams, connector: FakeConnector
) -> None:
    response = await teams.post(activity(connector, kind="installationUpdate"))

    assert response.status_code == 200
    assert "link" in shown(connector.posted(ALEX)[-1]).lower()
    assert await count(teams.services, ChannelIdentity) == 0


async def test_with_email_linking_on_installing_links_by_entra_email_and_asks_for_consent(
    services: Services, connector: FakeConnector
) -> None:
    await code_for_sam(services)
    connector.members["29:1alex"] = {"id": "29:1alex", "email": "sam@example.org", "name": "Sam"}
    async for teams in teams_world(services, connector, link_by_email=True):
        await teams.post(activity(connector, kind="installationUpdate"))

    async with services.sessions() as session:
        identity = await session.scalar(select(ChannelIdentity))
        sam = await session.scalar(select(Person).where(Person.key == "sam"))
    assert identity is not None and sam is not None
    assert (identity.person_id, identity.external_id, identity.workspace) == (sam.id, ALEX, TENANT)
    greeting = connector.posted(ALEX)[-1]
    assert "Hello Sam" in shown(greeting)
    assert [b["title"] for b in buttons(greeting)] == ["I agree", "No thanks"]


async def test_email_linking_is_off_by_default(teams: Teams, connector: FakeConnector) -> None:
    await code_for_sam(teams.services)
    connector.members["29:1alex"] = {"id": "29:1alex", "email": "sam@example.org"}

    await teams.post(activity(connector, kind="installationUpdate"))

    assert await count(teams.services, ChannelIdentity) == 0
    assert not any("/members/" in call.path for call in connector.calls)


async def test_choosing_an_audience_on_the_card_sets_the_default_audience(
    teams: Teams, connector: FakeConnector
) -> None:
    _rows, person, _identity = await alex(teams.services)
    await teams.say("audience")
    card = connector.posted(ALEX)[-1]
    card_id = list(connector.activities)[-1]
    [researchers] = [b for b in buttons(card) if tapped(b) == SetAudience("researchers")]

    await teams.tap(researchers["data"], reply_to=card_id)

    async with teams.services.sessions() as session:
        stored = await session.get(Person, person.id)
    assert stored is not None and stored.default_audience == "researchers"
    [(updated, redrawn)] = connector.updates()
    assert updated == card_id and buttons(redrawn) == []


async def test_when_the_core_cannot_store_a_message_teams_gets_500_and_its_resend_is_stored(
    teams: Teams, connector: FakeConnector
) -> None:
    await alex(teams.services)
    real = teams.channel._handler
    assert real is not None

    async def broken(message):  # type: ignore[no-untyped-def]
        raise RuntimeError("the database went away")

    body = activity(connector, text="note kept in the end", activity_id="f:retry")
    teams.channel._handler = broken
    failed = await teams.post(body)
    teams.channel._handler = real
    resent = await teams.post(body)

    assert (failed.status_code, resent.status_code) == (500, 200)
    assert await count(teams.services, Reflection) == 1
    assert len(connector.posted(ALEX)) == 1


async def test_an_edited_message_changes_nothing_and_says_how_to_edit_an_answer(
    teams: Teams, connector: FakeConnector
) -> None:
    await alex(teams.services)
    await teams.say("note the hub was quiet", activity_id="f:first")

    edited = activity(
        connector, kind="messageUpdate", text="note the hub was busy", event_type="editMessage"
    )
    response = await teams.post(edited)

    assert response.status_code == 200
    async with teams.services.sessions() as session:
        [note] = list(await session.scalars(select(Reflection)))
    assert note.text == "the hub was quiet"
    assert "edit" in shown(connector.posted(ALEX)[-1])


async def test_two_quick_messages_get_their_replies_in_order_even_when_one_is_retried(
    teams: Teams, connector: FakeConnector
) -> None:
    await alex(teams.services)
    connector.fail(ALEX, 502)  # the first reply is refused once and sent again after a pause
    headers = {"Authorization": f"Bearer {connector.token()}"}

    await teams.client.post(
        "/teams/messages", json=activity(connector, text="help"), headers=headers
    )
    await teams.client.post(
        "/teams/messages", json=activity(connector, text="status"), headers=headers
    )
    await teams.channel.idle()

    first, second = (shown(body) for body in connector.activities.values())
    assert "Commands:" in first
    assert "Commands:" not in second


async def test_the_help_text_keeps_its_lines_apart_in_teams(
    teams: Teams, connector: FakeConnector
) -> None:
    await alex(teams.services)

    await teams.say("help")

    text = connector.posted(ALEX)[-1]["text"]
    assert "Commands:\n\n• note TEXT" in text
    assert "\n\n\n" not in text
