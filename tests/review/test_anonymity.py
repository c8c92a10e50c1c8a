"""A lead sees in the review workspace exactly the team_anonymous reflections their weekly digest
shows (the three-person small-n rule), without time or channel, in an order that follows
neither; researchers see them all, by study code."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.services import Services
from digests.data import build_weekly
from digests.schedule import Week, schedule_for
from storage.models import Project
from tests.review.conftest import WHEN, World, build_world
from tests.review.helpers import client, csrf, listed_ids, sign_in
from tests.support.world import add_delivery, add_person, add_reflection

ANONYMOUS_LINK = re.compile(r'href="(/review/anonymous/[0-9a-f]+)"')


async def _add_writers(world: World, names: list[str], first: int = 3) -> list[int]:
    """More Fife participants, each writing one team_anonymous reflection in the week of WHEN."""
    ids = []
    fife = world.projects["fife"]
    async with world.services.sessions() as session, session.begin():
        for number, name in enumerate(names, start=first):
            person = await add_person(
                session, name.lower(), f"P-00{number}", name, email=f"{name}@x.org", projects=[fife]
            )
            written = WHEN + timedelta(hours=number)
            delivery = await add_delivery(
                session,
                person.id,
                fife,
                written,
                prompt_key="scoping.what-matters",
                prompt_text="What matters most this week in Fife?",
                status="answered",
            )
            reflection = await add_reflection(
                session,
                person.id,
                fife,
                f"secret-{number} was said at the hub.",
                created_at=written,
                audience="team_anonymous",
                channel="slack",
                delivery_id=delivery.id,
            )
            ids.append(reflection.id)
    return ids


async def _lead_digest_held_back(world: World) -> tuple[int, str]:
    async with world.services.sessions() as session:
        project = await session.get(Project, world.projects["fife"])
        assert project is not None
        digest = await build_weekly(
            session,
            project,
            Week.containing(WHEN.date()),
            ZoneInfo("Europe/London"),
            public_url="https://carbot.example",
            schedule=schedule_for({}),
        )
    shown = " ".join(i.text for s in digest.sections for g in s.groups for i in g.items)
    return digest.held_back, shown


async def _everything_a_lead_can_read(http) -> str:  # type: ignore[no-untyped-def]
    """Every page, search, filter and export a lead can reach, as one text."""
    texts = []
    listing = await http.get("/review/reflections")
    texts.append(listing.text)
    for link in ANONYMOUS_LINK.findall(listing.text):
        texts.append((await http.get(link)).text)
    for params in (
        {"q": "hub"},
        {"q": "secret"},
        {"answer_type": "text"},
        {"date_from": "2027-03-01", "date_to": "2027-03-07"},
        {"phase": "scoping"},
    ):
        texts.append((await http.get("/review/reflections", params=params)).text)
    for fmt in ("csv", "qdpx"):
        token = await csrf(http, "/review/export")
        response = await http.post("/review/export", data={"csrf": token, "format": fmt})
        if fmt == "csv":
            texts.append(response.content.decode("utf-8-sig"))
        else:
            archive = zipfile.ZipFile(io.BytesIO(response.content))
            texts.extend(archive.read(n).decode() for n in archive.namelist() if "." in n)
    return "\n".join(texts)


async def test_a_lead_of_a_two_person_project_sees_no_anonymous_reflection_the_digest_holds_back(
    world: World,
) -> None:
    ailsa = (await _add_writers(world, ["Ailsa"]))[0]
    held_back, shown = await _lead_digest_held_back(world)
    assert held_back == 2 and "secret-3" not in shown, "the digest holds both back"

    async with client(world.services) as http:
        await sign_in(http, "lead@example.org")
        everything = await _everything_a_lead_can_read(http)
        for number in (ailsa, world.reflections[("fife", "team_anonymous")]):
            assert (await http.get(f"/review/reflections/{number}")).status_code == 404
    assert "secret-3" not in everything
    assert "marker-fife-team_anonymous" not in everything
    assert "marker-fife-team " in everything, "the lead still sees the team reflection"

    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        listing = await http.get("/review/reflections", params={"q": "secret"})
    assert ailsa in listed_ids(listing.text) and "P-003" in listing.text


async def test_once_three_people_wrote_the_lead_sees_them_without_time_channel_or_id(
    world: World,
) -> None:
    ids = await _add_writers(world, ["Ailsa", "Calum"])
    held_back, shown = await _lead_digest_held_back(world)
    assert held_back == 0 and "secret-4" in shown, "the digest shows all three"

    async with client(world.services) as http:
        await sign_in(http, "lead@example.org")
        listing = await http.get("/review/reflections")
        links = ANONYMOUS_LINK.findall(listing.text)
        assert len(links) == 3
        assert not {*ids, world.reflections[("fife", "team_anonymous")]} & listed_ids(listing.text)
        page = await http.get(links[0])
        assert page.status_code == 200
        assert "secret-" in page.text or "marker-fife-team_anonymous" in page.text
        assert "not shown, to keep it anonymous" in page.text
        for leak in ("slack", "telegram", "2027", "Mar", "P-00", "Ailsa", "Calum", "Morag"):
            assert leak not in page.text.split("<main", 1)[-1], leak
        for number in ids:
            assert (await http.get(f"/review/reflections/{number}")).status_code == 404
        dated = await http.get(
            "/review/reflections", params={"date_from": "2027-03-01", "date_to": "2027-03-31"}
        )
        assert not ANONYMOUS_LINK.findall(dated.text), "a date filter would tell when"

        token = await csrf(http, "/review/export")
        response = await http.post("/review/export", data={"csrf": token, "format": "csv"})
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    anonymous = [r for r in rows if r["audience"] == "team_anonymous"]
    assert len(anonymous) == 3
    assert all(r["reflection_id"].startswith("anonymous-") for r in anonymous)
    assert {
        (r["created_utc"], r["created_local"], r["channel"], r["participant"]) for r in anonymous
    } == {("", "", "", "")}
    assert rows[0]["audience"] == "team", "named reflections first, anonymous ones after"
    order = [r["reflection_id"] for r in anonymous]
    assert order == sorted(order), "in the order of their handles, not of writing"


async def test_a_researcher_still_sees_every_anonymous_reflection_by_study_code(
    world: World,
) -> None:
    ids = await _add_writers(world, ["Ailsa"])
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        page = await http.get(f"/review/reflections/{ids[0]}")
    assert page.status_code == 200 and "P-003" in page.text and "slack" in page.text


async def test_the_lead_rule_and_its_order_hold_on_both_databases(any_services: Services) -> None:
    from pathlib import Path

    from sqlalchemy import select

    from bot.review.access import viewer_for
    from bot.review.search import Filters, each_reflection, search
    from storage.models import User

    world = await build_world(any_services, Path(any_services.settings.data_dir))
    two = await _add_writers(world, ["Ailsa"])
    async with any_services.sessions() as session:
        user = await session.scalar(select(User).where(User.email == "lead@example.org"))
        assert user is not None
        lead = await viewer_for(session, user, "Europe/London", b"key")
        assert lead.released == frozenset(), "two writers: the digest holds both back"
    three = two + await _add_writers(world, ["Calum"], first=4)
    async with any_services.sessions() as session:
        lead = await viewer_for(session, user, "Europe/London", b"key")
        anonymous = {*three, world.reflections[("fife", "team_anonymous")]}
        assert lead.released == anonymous
        page = (await search(session, lead, Filters())).reflections
        exported = [r.id async for r in each_reflection(session, lead, Filters())]
        dated = (await search(session, lead, Filters(date_from=WHEN.date()))).reflections
    ranks = lead.unlinkable_ranks()
    team = world.reflections[("fife", "team")]
    assert [r.id for r in page] == [team, *sorted(anonymous, key=ranks.__getitem__)]
    assert exported == [team, *sorted(anonymous, key=ranks.__getitem__)]
    assert [r.id for r in dated] == [team]
