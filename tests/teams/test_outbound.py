"""Proactive sends: Teams' limits kept, 429 waited out, a removed app is a permanent failure."""

from __future__ import annotations

import time

import pytest

from adapters.base import DeliveryError, OutboundText, Recipient
from adapters.teams import CONVERSATION_LIMITS, GLOBAL_RATE, Pacer
from bot.engine.dispatch import dispatch_once
from storage.models import ChannelIdentity, Delivery
from tests.fakes.teams_connector import TENANT, FakeConnector
from tests.teams.conftest import ALEX, Teams
from tests.teams.test_prompts import NOW, planned


async def test_a_429_is_waited_out_for_its_retry_after_and_the_prompt_sent_once(
    teams: Teams, connector: FakeConnector
) -> None:
    delivery_id = await planned(teams.services, "scale")
    connector.fail(ALEX, 429, retry_after="1")
    started = time.monotonic()

    assert await dispatch_once(teams.services, {"teams": teams.channel}, NOW, worker="w1") == 1

    assert time.monotonic() - started >= 1.0
    assert len(connector.posted(ALEX)) == 2  # the refused one and the one that went through
    assert len(connector.activities) == 1
    async with teams.services.sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
    assert delivery is not None and delivery.status == "sent"
    assert teams.channel.pacer.waited_out == 1


@pytest.mark.parametrize("status", [403, 404])
async def test_a_removed_app_or_a_person_who_left_fails_for_good_and_is_unreachable(
    teams: Teams, connector: FakeConnector, status: int
) -> None:
    delivery_id = await planned(teams.services, "text")
    connector.fail(ALEX, status)

    await dispatch_once(teams.services, {"teams": teams.channel}, NOW, worker="w1")

    async with teams.services.sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
        identity = await session.get(ChannelIdentity, delivery.identity_id if delivery else 0)
    assert delivery is not None and delivery.status == "failed"
    assert identity is not None and identity.status == "unreachable"
    assert len(connector.posted(ALEX)) == 1


async def test_a_server_error_is_retried_and_the_message_sent_once(
    teams: Teams, connector: FakeConnector
) -> None:
    connector.fail(ALEX, 502)

    ref = await teams.channel.send_text(Recipient(1, ALEX, TENANT), OutboundText("Hello"))

    assert list(connector.activities) == [ref.ref]


async def test_credentials_entra_id_refuses_stop_the_channel_at_start_naming_the_settings(
    connector: FakeConnector,
) -> None:
    from adapters.teams import TeamsChannel
    from tests.teams.conftest import config_for

    channel = TeamsChannel(config_for(connector, app_secret="wrong"))

    with pytest.raises(DeliveryError) as failure:
        await channel.start(_ignore)
    await channel.stop()

    assert failure.value.permanent
    assert "CARBOT_TEAMS_APP_SECRET" in str(failure.value)


async def test_a_token_refused_later_fails_the_send_but_not_the_person(
    connector: FakeConnector,
) -> None:
    import httpx

    from adapters.teams.auth import BotTokens
    from tests.teams.conftest import config_for

    async with httpx.AsyncClient() as client:
        tokens = BotTokens(config_for(connector, app_secret="wrong"), client)
        with pytest.raises(DeliveryError) as failure:
            await tokens("https://api.botframework.com/.default", TENANT)

    assert not failure.value.permanent
    assert "invalid_client" in str(failure.value)


async def _ignore(message):  # type: ignore[no-untyped-def]
    from adapters.base import InboundResult

    return InboundResult()


async def test_the_pacer_keeps_every_per_conversation_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    pacer = Pacer(margin=0.0, clock=lambda: now[0])
    starts: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr("adapters.teams.pacing.asyncio.sleep", fake_sleep)
    for _ in range(130):
        async with pacer.turn("one-conversation"):
            starts.append(now[0])

    for window, limit in CONVERSATION_LIMITS:
        for i, start in enumerate(starts):
            inside = [s for s in starts[i:] if s < start + window]
            assert len(inside) <= limit, (window, limit, start)
    assert starts[7] >= 1.0 and starts[8] >= 2.0 and starts[60] >= 30.0
    assert GLOBAL_RATE == 50.0
