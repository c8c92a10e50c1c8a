"""Fuzzing what comes from outside: the command parser, the web chat's send route, the
Telegram webhook route and the review workspace's routes. No input may crash them (no
exception, no 5xx), and a refused request changes no stored data.

Each test runs a fixed, derandomised set of examples (the same every run, so CI is repeatable)
and then a few fresh random ones. The routes run against the real app on SQLite, in one event
loop per test, so that the whole file stays well under 30 seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from adapters.errors import NoSuchDate
from adapters.telegram import TelegramChannel
from adapters.telegram.webhook import SECRET_HEADER
from bot.channels.webchat import issue_webchat_link, webchat_channel
from bot.core.conversation import Conversation
from bot.core.parsing import parse_command, parse_pause
from bot.services import Services
from bot.web.app import create_app
from storage.models import Reflection
from tests.conftest import make_settings
from tests.fakes.stored import stored_data
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.support.participants import SCALE, make_delivery, make_person, make_project, seed
from tests.support.schema import create_schema
from tests.support.transcript import TranscriptChannel
from tests.telegram.conftest import ANA, config_for

FIXED = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FRESH = settings(FIXED, max_examples=15, derandomize=False)

# What people actually type, and what an attacker would try, mixed into the random text.
TRICKY = [
    "pause 29 February",
    "pause 29 february 2027",
    "pause until 31 April",
    "pause 2027-02-30",
    "pause ٣ weeks",
    "pause ² days",
    "pause 999 weeks",
    "pause 1 jan 9999",
    "edit ²",
    "edit 3",
    "note",
    "note " + "x" * 9000,
    "/start",
    "/start@carbot_bot 2147483648",
    "link AAAAAA",
    "audience",
    "audience team last",
    "undo",
    "skip",
    "snooze later",
    "status",
    "stop",
    "help",
    "heard:2147483648:yes",
    "2147483648|3",
]
texts = st.one_of(st.text(max_size=200), st.sampled_from(TRICKY))


def run_in_one_loop(test: Callable[[asyncio.AbstractEventLoop], None]) -> None:
    loop = asyncio.new_event_loop()
    try:
        test(loop)
    finally:
        loop.close()


async def _services(tmp_path: Path) -> Services:
    services = Services.from_settings(make_settings(tmp_path))
    await create_schema(services.engine)
    return services


async def _reflections(services: Services) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Reflection)) or 0)


# ── the command parser ─────────────────────────────────────────────────────────────────────


def _parse(words: str, today: date) -> None:
    message = TranscriptChannel().message("x", words)
    found = parse_command(message)
    assert found is None or (isinstance(found[0], str) and isinstance(found[1], str))
    try:
        until = parse_pause(words, today)
    except NoSuchDate as impossible:
        assert impossible.shown
    else:
        assert until is None or isinstance(until, date)


def test_the_command_parser_never_crashes() -> None:
    days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
    words = st.one_of(texts, st.builds("pause {}".format, texts))
    for chosen in (FIXED, FRESH):
        chosen(given(words, days)(_parse))()


# ── the web chat's send route ──────────────────────────────────────────────────────────────

ids = st.one_of(
    st.none(),
    st.none(),
    st.none(),
    st.sampled_from(["2147483648", "²", "٣", "+1", "-1", "0", " 1", "1"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=20),
)
choices = st.one_of(
    st.none(),
    st.sampled_from(["1", "4", "²", "audience:team", "audience:x:last", "consent:yes"]),
    st.sampled_from(["heard:2147483648:yes", "heard:²:no", "project:nowhere", "project:"]),
    st.text(max_size=40),
)
# mostly well formed, so that most posts get past the door and reach the core
event_ids = st.one_of(*[st.uuids().map(str)] * 4, st.text(max_size=70))
forms = st.fixed_dictionaries(
    {"text": st.none() | texts, "choice": choices, "delivery_id": ids, "event_id": event_ids}
)


def test_the_web_chat_send_route_never_answers_5xx_and_a_refusal_writes_nothing(
    tmp_path: Path,
) -> None:
    def test(loop: asyncio.AbstractEventLoop) -> None:
        def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
            return loop.run_until_complete(coroutine)

        services = run(_services(tmp_path))
        now = datetime.now(UTC)

        async def build(session):  # type: ignore[no-untyped-def]
            rows = await make_project(session, today=now.date())
            person, _ = await make_person(session, rows.project, name="Morag Campbell", now=now)
            for n in range(3):
                await make_delivery(
                    session, person, rows, sent_at=now - timedelta(minutes=5 + n),
                    kind="scale", options=SCALE,
                )  # fmt: skip
            return await issue_webchat_link(session, person, now=now)

        token = run(seed(services, build))
        channel = webchat_channel(services)
        run(channel.start(Conversation(services).handle))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(services, [channel])),
            base_url="http://testserver",
        )
        page = run(client.get(f"/chat/{token}")).text
        found = re.search(r'data-nonce="([^"]+)"', page)
        assert found is not None
        nonce = found.group(1)

        def post(form: dict[str, str | None]) -> None:
            data = {"nonce": nonce, **{k: v for k, v in form.items() if v is not None}}
            response = run(client.post(f"/chat/{token}/send", data=data))
            answered[response.status_code < 400] += 1
            assert response.status_code < 500, (response.status_code, response.text[:200])
            after = run(stored_data(services))
            if response.status_code >= 400:
                assert after == last[0]
            else:
                assert len(after["Reflection"]) <= len(last[0]["Reflection"]) + 1
            last[0] = after

        answered = {True: 0, False: 0}
        last = [run(stored_data(services))]  # what was stored after the previous request
        try:
            for chosen in (FIXED, FRESH):
                chosen(given(forms)(post))()
            # the examples reach the core, not only the door: many are answered, and words are
            # stored (a tap on a value carbot never offered is answered and stores nothing)
            assert answered[True] > 50 and run(_reflections(services)) >= 5, answered
        finally:
            run(client.aclose())
            run(channel.stop())
            run(services.close())

    run_in_one_loop(test)


# ── the Telegram webhook route ─────────────────────────────────────────────────────────────

SECRET = "a-long-random-webhook-secret"
_update_ids = itertools.count(1_000)
_message_ids = itertools.count(1)
PERSON = {"id": ANA, "is_bot": False, "first_name": "Ana"}
CHAT = {"id": ANA, "type": "private", "first_name": "Ana"}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
entities = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["bot_command", "bold", "url", "mention"]),
            "offset": st.integers(min_value=-3, max_value=40),
            "length": st.integers(min_value=-3, max_value=40),
        }
    ),
    max_size=2,
)


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["message", "edited_message", "callback_query", "junk"]))
    if kind == "junk":
        body = draw(st.dictionaries(st.text(max_size=15), json_values, max_size=4))
        return {**body, "update_id": next(_update_ids)}
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": CHAT,
        "from": PERSON,
        "text": draw(texts),
    }
    if draw(st.booleans()):
        message["entities"] = draw(entities)
    if kind == "callback_query":
        tap = {
            "id": f"cb-{next(_message_ids)}",
            "from": PERSON,
            "chat_instance": "ci",
            "message": {**message, "from": {"id": 1, "is_bot": True, "first_name": "carbot"}},
            "data": draw(st.one_of(st.text(max_size=64), st.sampled_from(TRICKY))),
        }
        return {"update_id": next(_update_ids), "callback_query": tap}
    return {"update_id": next(_update_ids), kind: message}


def test_the_telegram_webhook_never_answers_5xx_and_a_refusal_writes_nothing(
    tmp_path: Path,
) -> None:
    def test(loop: asyncio.AbstractEventLoop) -> None:
        def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
            return loop.run_until_complete(coroutine)

        services = run(_services(tmp_path))
        now = datetime.now(UTC)

        async def build(session):  # type: ignore[no-untyped-def]
            rows = await make_project(session, today=now.date())
            await make_person(
                session, rows.project, name="Ana Silva", channel="telegram",
                external_id=str(ANA), now=now,
            )  # fmt: skip

        run(seed(services, build))
        fake = FakeTelegramAPI()
        run(fake.__aenter__())
        channel = TelegramChannel(
            config_for(
                fake,
                mode="webhook",
                webhook_secret=SECRET,
                webhook_url="https://carbot.example.org/telegram/webhook",
                per_window=100_000,  # the fake has no flood limit to keep to
            )
        )
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(services, [channel])),
            base_url="http://testserver",
        )
        run(channel.start(Conversation(services).handle))

        def push(update: dict[str, Any]) -> None:
            response = run(
                client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET})
            )
            answered[response.status_code == 200] += 1
            assert response.status_code in (200, 400), (response.status_code, update)
            after = run(stored_data(services))
            if response.status_code == 400:
                assert after == last[0]
            last[0] = after

        answered = {True: 0, False: 0}
        last = [run(stored_data(services))]  # what was stored after the previous update
        try:
            for chosen in (FIXED, FRESH):
                chosen(given(updates())(push))()
            # the examples reach the core, not only the door: many are answered, and words are
            # stored (a tap on a value carbot never offered is answered and stores nothing)
            assert answered[True] > 50 and run(_reflections(services)) >= 5, answered
        finally:
            run(client.aclose())
            run(channel.stop())
            run(fake.__aexit__(None, None, None))
            run(services.close())

    run_in_one_loop(test)


# ── the review workspace's routes ──────────────────────────────────────────────────────────

REVIEW_ROUTES = [
    ("GET", "/review/reflections/{}"),
    ("GET", "/review/evidence/{}"),
    ("GET", "/review/reflections?page={}&code={}&project={}"),
    ("POST", "/review/reflections/{}/codings"),
    ("POST", "/review/reflections/{}/memos"),
    ("POST", "/review/codings/{}/delete"),
    ("POST", "/review/codes"),
    ("POST", "/review/codes/{}"),
    ("POST", "/review/codes/{}/memos"),
]
path_values = st.one_of(
    st.sampled_from(["1", "2", "3", "2147483648", "99999999999999999999", "²", "٣", "-1", "0"]),
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%&"),
        max_size=12,
    ),
)
review_forms = st.fixed_dictionaries(
    {},
    optional={
        "text": texts,
        "name": texts,
        "code_id": ids,
        "start": ids,
        "end": ids,
        "whole": st.sampled_from(["1", "0", "²"]),
        "parent_id": ids,
        "color": st.text(max_size=10),
        "description": texts,
    },
)


async def _review_rows(services: Services) -> dict[str, int]:
    from storage.models import Code, Coding, Memo

    async with services.sessions() as session:
        return {
            model.__name__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Code, Coding, Memo, Reflection)
        }


def test_the_review_routes_never_answer_5xx_and_a_refusal_writes_nothing(tmp_path: Path) -> None:
    from tests.review.conftest import build_world
    from tests.review.helpers import client as review_client
    from tests.review.helpers import csrf, sign_in

    def test(loop: asyncio.AbstractEventLoop) -> None:
        def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
            return loop.run_until_complete(coroutine)

        services = run(_services(tmp_path))
        run(build_world(services, Path(services.settings.data_dir)))
        http = review_client(services)
        run(sign_in(http, "admin@example.org"))
        token = run(csrf(http, "/review/codes"))

        def call(route: tuple[str, str], values: list[str], form: dict[str, str | None]) -> None:
            method, template = route
            path = template.format(*values)
            before = run(_review_rows(services))
            if method == "GET":
                response = run(http.get(path))
            else:
                fields = {k: v for k, v in form.items() if v is not None}
                response = run(http.post(path, data={"csrf": token, **fields}))
            assert response.status_code < 500, (response.status_code, path, form)
            answered[response.status_code < 400] += 1
            if response.status_code >= 400:
                assert run(_review_rows(services)) == before, (path, form)

        answered = {True: 0, False: 0}
        routes = st.sampled_from(REVIEW_ROUTES)
        values = st.lists(path_values, min_size=3, max_size=3)
        try:
            for chosen in (FIXED, FRESH):
                chosen(given(routes, values, review_forms)(call))()
            assert answered[True] > 20, answered  # real pages and real writes, not only 404s
        finally:
            run(http.aclose())
            run(services.close())

    run_in_one_loop(test)
