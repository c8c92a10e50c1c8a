"""Fuzzing the Teams route, ``/teams/messages``, as :mod:`tests.fuzz.test_fuzz` does the other
webhooks: activities (typed text, card taps, edits, installs, mangled and junk bodies), most
signed with a good token and some not, through the real SDK to the core, with the fake Bot
Connector on loopback. No activity may crash the route (no 5xx), and a refused one changes no
stored data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from adapters.actions import Write, encode, pack
from adapters.teams import TeamsChannel
from adapters.teams.cards import ANSWER_INPUT
from adapters.teams.pacing import Pacer
from bot.core.conversation import Conversation
from bot.web.app import create_app
from tests.fakes.stored import stored_data
from tests.fakes.teams_connector import TENANT, FakeConnector
from tests.fuzz.test_fuzz import (
    FIXED,
    FRESH,
    TRICKY,
    _reflections,
    _services,
    json_values,
    run_in_one_loop,
    texts,
)
from tests.support.participants import SCALE, make_delivery, make_person, make_project, seed
from tests.teams.conftest import ALEX, activity, config_for

KINDS = ["message", "message", "tap", "tap", "edit", "install", "mangled", "junk"]
# typed text, and notes (which store words whatever prompt is open)
typed = st.one_of(texts, *[st.builds("note {}".format, texts)] * 2)


def taps(deliveries: list[int]) -> st.SearchStrategy[str]:
    """A card button's ``carbot`` value: mostly ones carbot makes, for the prompts it sent."""
    made = [pack(str(n), d) for d in deliveries for n in range(1, 6)]
    made += [pack(encode(Write()), d) for d in deliveries]
    return st.one_of(
        st.sampled_from(made),
        st.sampled_from(made),
        st.sampled_from(TRICKY),
        st.text(max_size=40),
    )


@st.composite
def activities(draw: st.DrawFn, connector: FakeConnector, deliveries: list[int]) -> Any:
    kind = draw(st.sampled_from(KINDS))
    if kind == "junk":
        return draw(st.dictionaries(st.text(max_size=15), json_values, max_size=4))
    if kind == "tap":
        value: dict[str, Any] = {"carbot": draw(taps(deliveries))}
        if draw(st.booleans()):
            value[ANSWER_INPUT] = draw(texts)
        return activity(connector, value=value, reply_to=draw(st.none() | st.text(max_size=20)))
    if kind == "edit":
        return activity(connector, text=draw(texts), kind="messageUpdate", event_type="editMessage")
    if kind == "install":
        return activity(connector, kind="installationUpdate")
    body = activity(connector, text=draw(typed))
    if kind == "mangled":  # one of a real activity's fields replaced by anything at all
        body[draw(st.sampled_from(sorted(body)))] = draw(json_values)
    return body


def test_the_teams_route_never_answers_5xx_and_a_refusal_writes_nothing(
    tmp_path: Path,
) -> None:
    def test(loop: asyncio.AbstractEventLoop) -> None:
        def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
            return loop.run_until_complete(coroutine)

        services = run(_services(tmp_path))
        now = datetime.now(UTC)

        async def build(session):  # type: ignore[no-untyped-def]
            rows = await make_project(session, today=now.date())
            person, _ = await make_person(
                session, rows.project, name="Alex Reid", channel="teams",
                workspace=TENANT, external_id=ALEX, now=now,
            )  # fmt: skip
            sent = []
            for n in range(3):
                delivery = await make_delivery(
                    session, person, rows, sent_at=now - timedelta(minutes=5 + n),
                    kind="scale", options=SCALE,
                )  # fmt: skip
                sent.append(delivery.id)
            return sent

        deliveries = run(seed(services, build))
        connector = FakeConnector().start()
        # the fake enforces no rate limits here, so the replies need not keep to Teams' own
        unpaced = Pacer(rate=100_000, limits=((1.0, 100_000),))
        channel = TeamsChannel(config_for(connector), pacer=unpaced)
        run(channel.start(Conversation(services).handle))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(services, [channel])),
            base_url="http://testserver",
        )
        tokens = st.sampled_from(["good"] * 6 + ["none", "forged", "expired"])

        def post(body: Any, token: str) -> None:
            bearer = {
                "good": connector.token,
                "forged": lambda: connector.token(forged=True),
                "expired": lambda: connector.token(expires_in=-3600),
            }.get(token)
            headers = {"Authorization": f"Bearer {bearer()}"} if bearer else {}
            response = run(client.post("/teams/messages", json=body, headers=headers))
            run(channel.idle())
            answered[response.status_code == 200] += 1
            assert response.status_code < 500, (response.status_code, body)
            if token != "good":  # 400 when the body is refused before the token is checked
                assert response.status_code in (400, 401), (response.status_code, body)
            after = run(stored_data(services))
            if response.status_code >= 400:
                assert after == last[0], body
            last[0] = after

        answered = {True: 0, False: 0}
        last = [run(stored_data(services))]  # what was stored after the previous activity
        try:
            for chosen in (FIXED, FRESH):
                chosen(given(activities(connector, deliveries), tokens)(post))()
            # the examples reach the core, not only the door: many are answered, and words are
            # stored (a tap on a value carbot never offered is answered and stores nothing)
            assert answered[True] > 50 and run(_reflections(services)) >= 5, answered
        finally:
            run(client.aclose())
            run(channel.stop())
            connector.close()
            run(services.close())

    run_in_one_loop(test)
