"""The small parts on their own: Retry-After, the signing-key cache, the card text."""

from __future__ import annotations

import httpx
import pytest

from adapters.teams.cards import teams_text
from adapters.teams.errors import as_delivery_error, retry_after
from adapters.teams.keys import SigningKeys
from tests.fakes.teams_connector import FakeConnector


def _response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("POST", "http://x/"))


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("0.5", 0.5), ("soon", 1.0), ("", 1.0), ("86400", 60.0), ("-4", 0.0)],
)
def test_retry_after_is_read_in_seconds_and_kept_within_a_minute(
    header: str, seconds: float
) -> None:
    assert retry_after(_response(429, **{"Retry-After": header})) == seconds


@pytest.mark.parametrize(
    ("status", "permanent"), [(403, True), (404, True), (400, False), (401, False), (413, False)]
)
def test_only_a_removed_app_or_a_departed_person_is_permanent(status: int, permanent: bool) -> None:
    error = httpx.HTTPStatusError(
        "x", request=httpx.Request("POST", "http://x/"), response=_response(status)
    )
    assert as_delivery_error(error).permanent is permanent


async def test_signing_keys_are_read_once_and_again_only_after_their_lifespan(
    connector: FakeConnector,
) -> None:
    now = [0.0]
    async with httpx.AsyncClient() as client:
        keys = SigningKeys(
            connector.openid_url, client, lifespan=300, recheck=60, clock=lambda: now[0]
        )
        good = connector.token()

        assert await keys.publishes(good)
        assert await keys.publishes(good)
        assert not await keys.publishes(connector.token(kid="unknown"))
        reads = sum(1 for c in connector.calls if c.path.endswith("/keys"))
        now[0] = 301.0
        assert await keys.publishes(good)

    assert reads == 1
    assert sum(1 for c in connector.calls if c.path.endswith("/keys")) == 2


async def test_a_token_that_is_not_a_jwt_names_no_key(connector: FakeConnector) -> None:
    async with httpx.AsyncClient() as client:
        keys = SigningKeys(connector.openid_url, client)
        assert not await keys.publishes("not.a.jwt")
    assert connector.calls == []


def test_lines_one_newline_apart_become_paragraphs() -> None:
    assert teams_text("Commands:\n• help\n\n• note") == "Commands:\n\n• help\n\n• note"
    assert teams_text("one line") == "one line"
