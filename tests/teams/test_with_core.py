"""End to end: Teams (the real SDK, a fake Bot Connector) → the conversation core → the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.core.onboarding import issue_link_code
from bot.engine.dispatch import dispatch_once
from bot.services import Services
from storage.models import ChannelIdentity, ConsentRecord, Delivery, Person, Reflection
from tests.fakes.teams_connector import TENANT, FakeConnector
from tests.support.participants import make_delivery, make_person, make_project, seed
from tests.teams.conftest import ALEX, Teams, activity, buttons, card_of, shown

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
