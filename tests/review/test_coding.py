from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.errors import UsageError
from bot.review.access import cli_viewer
from bot.review.coding import add_code, apply_code, code_counts
from storage.models import Delivery, Reflection
from tests.review.conftest import GAELIC, WHEN, World
from tests.review.helpers import client, csrf, sign_in


async def test_a_researcher_builds_a_nested_codebook_and_codes_a_span(world: World) -> None:
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        token = await csrf(http, "/review/codes")
        await http.post(
            "/review/codes",
            data={
                "csrf": token,
                "name": "Feelings",
                "color": "#aa3355",
                "description": "How it feels",
            },
        )
        page = await http.get("/review/codes")
        parent = re.search(r'<option value="(\d+)">Feelings', page.text).group(1)
        await http.post(
            "/review/codes",
            data={"csrf": token, "name": "Hopeful", "parent_id": parent, "color": "#33aa55"},
        )
        thumb = GAELIC.index("👍")
        codes_page = (await http.get("/review/codes")).text
        code_id = re.search(r'<option value="(\d+)">— Hopeful', codes_page).group(1)
        coded = await http.post(
            f"/review/reflections/{world.gaelic}/codings",
            data={"csrf": token, "code_id": code_id, "start": str(thumb), "end": str(thumb + 1)},
        )
        assert coded.status_code == 303
        shown = await http.get(f"/review/reflections/{world.gaelic}")
        assert "<mark>👍</mark>" in shown.text
        assert 'title="Hopeful">👍</mark>' in shown.text  # highlighted in the text itself
        assert "researcher@example.org" in shown.text  # who coded it
        codes = await http.get("/review/codes")
        assert "Fife · Scoping" in codes.text
        assert "(level 2)" in codes.text


async def test_a_passage_outside_the_text_is_refused_with_a_reason(world: World) -> None:
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        token = await csrf(http, "/review/codes")
        await http.post("/review/codes", data={"csrf": token, "name": "Place", "color": "#123456"})
        code_id = (await http.get("/review/codes")).text.split('id="code-')[1].split('"')[0]
        refused = await http.post(
            f"/review/reflections/{world.gaelic}/codings",
            data={"csrf": token, "code_id": code_id, "start": "5", "end": "500"},
        )
    assert refused.status_code == 400
    assert f"runs from 0 to {len(GAELIC)}" in refused.text


async def test_a_code_needs_a_proper_colour_and_a_unique_name(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        await add_code(session, cli_viewer(), "Trust")
        with pytest.raises(UsageError):
            await add_code(session, cli_viewer(), "Trust")
        with pytest.raises(UsageError):
            await add_code(session, cli_viewer(), "Time", color="red")


async def test_code_counts_are_by_partnership_and_phase_and_follow_the_access_rules(
    world: World,
) -> None:
    viewer = cli_viewer()
    async with world.services.sessions() as session, session.begin():
        code = await add_code(session, viewer, "Trust")
        for key in [("fife", "team"), ("dundee", "team"), ("fife", "researchers")]:
            reflection = await session.get(Reflection, world.reflections[key])
            assert reflection is not None
            await apply_code(session, viewer, reflection, code.id)
    from bot.review.access import Viewer

    lead = Viewer(user_id=None, email="lead", lead_projects=frozenset({world.projects["fife"]}))
    async with world.services.sessions() as session:
        everyone = await code_counts(session, viewer)
        for_lead = await code_counts(session, lead)
    assert everyone[code.guid] == {("Fife", "Scoping"): 2, ("Dundee", "Scoping"): 1}
    assert for_lead[code.guid] == {("Fife", "Scoping"): 1}


async def test_the_dashboard_shows_rates_and_phases_without_naming_anyone(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        deliveries = (await session.execute(select(Delivery))).scalars().all()
        for delivery in deliveries[:2]:
            delivery.status = "expired"
        delivery = deliveries[0]
        session.add(
            Delivery(
                person_id=delivery.person_id,
                project_id=delivery.project_id,
                slot=WHEN + timedelta(days=30),
                due_at=WHEN,
                prompt_key="k",
                prompt_kind="text",
                prompt_text="?",
                status="skipped",
            )
        )
    async with client(world.services) as http:
        await sign_in(http, "lead@example.org")
        page = await http.get("/review/dashboard")
    assert page.status_code == 200
    assert "Fife family hub" in page.text and "Dundee family hub" not in page.text
    assert "2 of 4 prompts answered (50%)" in page.text  # the skipped one is left out
    assert '<svg class="chart"' in page.text and "<circle" in page.text
    assert "Morag" not in page.text and "P-001" not in page.text


async def test_the_current_week_is_shown_so_far_and_its_open_prompts_are_not_a_fall_to_0(
    world: World,
) -> None:
    from bot.review.dashboard import participation

    today = (WHEN + timedelta(days=2)).date()  # the week of the fixture's first answers
    async with world.services.sessions() as session, session.begin():
        first = await session.scalar(
            select(Delivery).where(Delivery.project_id == world.projects["fife"]).limit(1)
        )
        assert first is not None
        for hours in (1, 2, 3):  # three prompts sent today, not answered yet
            session.add(
                Delivery(
                    person_id=first.person_id,
                    project_id=first.project_id,
                    slot=WHEN + timedelta(days=2, hours=hours),
                    due_at=WHEN,
                    prompt_key=f"open-{hours}",
                    prompt_kind="text",
                    prompt_text="?",
                    status="sent",
                )
            )
    async with world.services.sessions() as session:
        everything = await participation(session, cli_viewer(), today)
    (fife,) = [p for p in everything if p.project.id == world.projects["fife"]]
    last = fife.weeks[-1]
    assert last.so_far and last.open == 3 and last.rate == 1.0
    assert fife.chart().points[-1].week.so_far

    async with client(world.services) as http:
        await sign_in(http, "lead@example.org")
        page = (await http.get("/review/dashboard")).text
    assert "3 still open" in page


def test_overlapping_passages_are_cut_into_pieces_for_highlighting() -> None:
    from datetime import UTC, datetime

    from bot.review.pages import CodingView, segments
    from storage.models import Code, Coding

    def view(name: str, start: int, end: int) -> CodingView:
        coding = Coding(
            guid=name,
            code_id=1,
            reflection_id=1,
            start=start,
            end=end,
            created_at=datetime.now(UTC),
        )
        return CodingView(coding, Code(name=name, color="#123456"), None, "me")

    a, b = view("a", 0, 4), view("b", 2, 6)
    pieces = segments("abcdefgh", [a, b])
    assert [(text, [c.code.name for c in covering]) for text, covering in pieces] == [
        ("ab", ["a"]),
        ("cd", ["a", "b"]),
        ("ef", ["b"]),
        ("gh", []),
    ]


async def test_a_researcher_renames_a_code_and_its_codings_follow(world: World) -> None:
    viewer = cli_viewer()
    async with world.services.sessions() as session, session.begin():
        code = await add_code(session, viewer, "Trsut")
        await add_code(session, viewer, "Time")
        reflection = await session.get(Reflection, world.gaelic)
        assert reflection is not None
        await apply_code(session, viewer, reflection, code.id)
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        token = await csrf(http, "/review/codes")
        clash = await http.post(
            f"/review/codes/{code.id}", data={"csrf": token, "name": "Time", "color": "#000000"}
        )
        assert clash.status_code == 400 and "already a code called" in clash.text
        fixed = await http.post(
            f"/review/codes/{code.id}",
            data={
                "csrf": token,
                "name": "Trust",
                "color": "#884400",
                "description": "Who relies on whom",
            },
        )
        assert fixed.status_code == 303
        page = await http.get(f"/review/reflections/{world.gaelic}")
    assert "<strong>Trust</strong>" in page.text


async def test_coding_the_same_passage_twice_with_one_code_keeps_one_coding(world: World) -> None:
    viewer = cli_viewer()
    async with world.services.sessions() as session, session.begin():
        code = await add_code(session, viewer, "Trust")
        reflection = await session.get(Reflection, world.gaelic)
        assert reflection is not None
        first = await apply_code(session, viewer, reflection, code.id, 0, 3)
        again = await apply_code(session, viewer, reflection, code.id, 0, 3)
        whole = await apply_code(session, viewer, reflection, code.id)
        whole_again = await apply_code(session, viewer, reflection, code.id)
        wider = await apply_code(session, viewer, reflection, code.id, 0, 4)
    assert again.id == first.id and whole_again.id == whole.id
    assert len({first.id, whole.id, wider.id}) == 3
