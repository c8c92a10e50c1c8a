"""Ids in review addresses and forms are plain digits within a database id's range, or refused
with a page — never a server error, on SQLite and on PostgreSQL (whose ids are 32-bit)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.services import Services
from storage.models import Code, Coding
from tests.review.conftest import World, build_world
from tests.review.helpers import client, csrf, sign_in

BAD_IDS = ["2147483648", "99999999999999999999999", "²", "٣", "%2B7", "-1", "0", "1%20"]


@pytest.fixture
async def any_world(any_services: Services) -> World:
    return await build_world(any_services, Path(any_services.settings.data_dir))


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_a_malformed_or_out_of_range_id_in_an_address_is_not_found(
    read_only_world: World, bad: str
) -> None:
    # every request here is refused or only lists, so the cases share the module's world
    async with client(read_only_world.services) as http:
        await sign_in(http, "admin@example.org")
        for path in (f"/review/reflections/{bad}", f"/review/evidence/{bad}"):
            response = await http.get(path)
            assert response.status_code == 404, path
            assert "nothing here" in response.text
        for query in (f"page={bad}", f"code={bad}", f"project={bad}&cycle={bad}"):
            listed = await http.get(f"/review/reflections?{query}")
            assert listed.status_code == 200, query  # a filter that does not parse is ignored
        token = await csrf(http, "/review/codes")
        for path in (
            f"/review/reflections/{bad}/memos",
            f"/review/codings/{bad}/delete",
            f"/review/codes/{bad}",
            f"/review/codes/{bad}/memos",
        ):
            response = await http.post(path, data={"csrf": token, "text": "x", "name": "x"})
            assert response.status_code == 404, path
            assert "nothing here" in response.text


@pytest.mark.parametrize("bad", ["2147483648", "²", "٣", "1 2", "-3"])
async def test_coding_with_a_malformed_code_or_offset_is_refused_with_a_reason(
    any_world: World, bad: str
) -> None:
    target = any_world.gaelic
    async with client(any_world.services) as http:
        await sign_in(http, "researcher@example.org")
        token = await csrf(http, "/review/codes")
        made = await http.post("/review/codes", data={"csrf": token, "name": "Hope"})
        assert made.status_code == 303
        async with any_world.services.sessions() as session:
            code_id = await session.scalar(select(Code.id))
        for form in (
            {"code_id": bad, "whole": "1"},
            {"code_id": str(code_id), "start": bad, "end": "4"},
            {"code_id": str(code_id), "start": "0", "end": bad},
        ):
            response = await http.post(
                f"/review/reflections/{target}/codings", data={"csrf": token, **form}
            )
            assert response.status_code == 400, form
        parent = await http.post(
            "/review/codes", data={"csrf": token, "name": "Hope, inner", "parent_id": bad}
        )
        assert parent.status_code in (303, 400)
    async with any_world.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Coding)) == 0


async def test_a_memo_with_a_nul_character_is_kept_without_it_on_every_database(
    any_world: World,
) -> None:
    target = any_world.gaelic
    async with client(any_world.services) as http:
        await sign_in(http, "researcher@example.org")
        token = await csrf(http, f"/review/reflections/{target}")
        response = await http.post(
            f"/review/reflections/{target}/memos", data={"csrf": token, "text": "to\x00 follow up"}
        )
        assert response.status_code == 303
        page = await http.get(f"/review/reflections/{target}")
    assert "to follow up" in page.text
