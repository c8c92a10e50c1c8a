"""Every request to /teams/messages carries a Bot Framework JWT that is verified against the
(fake) OpenID signing keys; anything else gets 401 and nothing is read into the core or stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.services import Services
from storage.models import InboundEvent, Reflection
from tests.fakes.teams_connector import APP_ID, FakeConnector
from tests.teams.conftest import ALEX, Teams, activity
from tests.teams.test_with_core import alex


async def stored(services: Services) -> tuple[int, int]:
    async with services.sessions() as session:
        events = await session.scalar(select(func.count()).select_from(InboundEvent))
        notes = await session.scalar(select(func.count()).select_from(Reflection))
    return int(events or 0), int(notes or 0)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(None, id="missing"),
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param("forged", id="signed-with-another-key"),
        pytest.param("expired", id="expired"),
        pytest.param("audience", id="for-another-app"),
        pytest.param("issuer", id="from-another-issuer"),
        pytest.param("service", id="for-another-service-url"),
    ],
)
async def test_a_request_whose_token_does_not_verify_gets_401_and_stores_nothing(
    teams: Teams, connector: FakeConnector, token: str | None
) -> None:
    await alex(teams.services)
    tokens = {
        "forged": lambda: connector.token(forged=True),
        "expired": lambda: connector.token(expires_in=-3600),
        "audience": lambda: connector.token(audience="someone-else-" + APP_ID),
        "issuer": lambda: connector.token(issuer="https://evil.example"),
        "service": lambda: connector.token(service_url="https://evil.example/"),
    }
    bearer = tokens[token]() if token in tokens else token

    response = await teams.post(activity(connector, text="note I was never here"), token=bearer)

    assert response.status_code == 401
    assert await stored(teams.services) == (0, 0)
    assert connector.posted() == []


async def test_a_request_without_a_token_is_refused_before_its_body_is_read(
    teams: Teams,
) -> None:
    response = await teams.client.post("/teams/messages", content=b"\xff not json at all")

    assert response.status_code == 401


async def test_a_signed_request_with_a_body_that_is_not_json_gets_400(
    teams: Teams, connector: FakeConnector
) -> None:
    response = await teams.client.post(
        "/teams/messages",
        content=b"[1, 2",
        headers={"Authorization": f"Bearer {connector.token()}"},
    )

    assert response.status_code == 400


async def test_a_good_token_lets_the_message_in(teams: Teams, connector: FakeConnector) -> None:
    await alex(teams.services)

    response = await teams.say("note the hub was busy")

    assert response.status_code == 200
    assert await stored(teams.services) == (1, 1)


async def test_a_redelivered_activity_is_stored_once_and_answered_once(
    teams: Teams, connector: FakeConnector
) -> None:
    await alex(teams.services)
    body = activity(connector, text="note the hub was busy", activity_id="f:same")

    first = await teams.post(body)
    again = await teams.post(body)

    assert (first.status_code, again.status_code) == (200, 200)
    assert await stored(teams.services) == (1, 1)
    assert len(connector.posted(ALEX)) == 1


async def test_an_activity_from_another_tenant_is_ignored(
    teams: Teams, connector: FakeConnector
) -> None:
    await alex(teams.services)

    await teams.post(
        activity(connector, text="note hi", tenant="99999999-0000-4000-8000-000000000000")
    )

    assert await stored(teams.services) == (0, 0)
    assert connector.posted() == []


async def test_a_group_chat_message_is_answered_with_where_to_find_the_bot_and_not_kept(
    teams: Teams, connector: FakeConnector
) -> None:
    await alex(teams.services)

    await teams.post(activity(connector, text="note hi", conversation="19:group", personal=False))

    assert await stored(teams.services) == (0, 0)
    assert "personal chat" in connector.posted("19:group")[-1]["text"]


async def test_the_sdks_switch_for_unauthenticated_requests_in_the_environment_is_ignored(
    services: Services, connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.teams.conftest import teams_world

    monkeypatch.setenv("DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS", "true")
    await alex(services)
    async for teams in teams_world(services, connector):
        response = await teams.post(activity(connector, text="note sneaky"), token="not-a-jwt")

    assert response.status_code == 401
    assert await stored(services) == (0, 0)


async def test_tokens_naming_unknown_keys_are_refused_without_fetching_the_keys_each_time(
    teams: Teams, connector: FakeConnector
) -> None:
    await alex(teams.services)
    await teams.say("note first, with a good token")  # the keys are read once here
    fetched = sum(1 for call in connector.calls if call.path.endswith("/keys"))

    for n in range(5):
        bad = connector.token(forged=True, kid=f"made-up-{n}")
        response = await teams.post(activity(connector, text="note forged"), token=bad)
        assert response.status_code == 401

    assert sum(1 for call in connector.calls if call.path.endswith("/keys")) == fetched
    assert await stored(teams.services) == (1, 1)
