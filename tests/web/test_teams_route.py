"""The Teams route on the whole web app: refused before its body is read, and a forged or
unsigned activity stores nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes.stored import stored_data
from tests.teams.conftest import ALEX, activity
from tests.teams.test_with_core import alex
from tests.telegram.conftest import serving
from tests.web.conftest import Site
from tests.web.test_limits import _status_after

HEAD = b"POST /teams/messages HTTP/1.1\r\nHost: carbot\r\nContent-Type: application/json\r\n"


async def test_a_declared_hundred_megabytes_to_teams_is_refused_before_any_body_is_sent(
    site: Site,
) -> None:
    token = site.teams.token(forged=True).encode()  # names the published key: gets past the gate
    head = HEAD + b"Authorization: Bearer " + token + b"\r\nContent-Length: 104857600\r\n\r\n"
    async with serving(site.app) as base:
        assert (await _status_after(base, head, b"")).startswith(b"HTTP/1.1 413")


async def test_an_unsigned_chunked_activity_is_refused_before_any_body_is_sent(
    site: Site,
) -> None:
    head = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
    async with serving(site.app) as base:
        assert (await _status_after(base, head, b"")).startswith(b"HTTP/1.1 401")


@pytest.mark.parametrize("token", ["unsigned", "forged", "expired"])
async def test_a_forged_or_unsigned_activity_is_refused_and_changes_no_stored_data(
    site: Site, token: str
) -> None:
    await alex(site.services)
    before = await stored_data(site.services)
    bearers = {
        "forged": site.teams.token(forged=True),
        "expired": site.teams.token(expires_in=-3600),
    }
    headers = {"Authorization": f"Bearer {bearers[token]}"} if token in bearers else {}
    body = activity(site.teams, text="note I was never here")
    async with serving(site.app) as base, httpx.AsyncClient(base_url=base) as http:
        refused = await http.post("/teams/messages", json=body, headers=headers)
        assert refused.status_code == 401
        assert await stored_data(site.services) == before
        assert site.teams.posted(ALEX) == []

        # the same activity, signed, is taken: the check above could see a change
        signed = {"Authorization": f"Bearer {site.teams.token()}"}
        assert (await http.post("/teams/messages", json=body, headers=signed)).status_code == 200
    assert await stored_data(site.services) != before
