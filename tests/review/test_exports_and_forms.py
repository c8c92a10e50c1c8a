"""What a researcher opening an export in a spreadsheet, or a forged form, would run into."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.review.access import cli_viewer
from bot.review.coding import add_code, apply_code, update_code
from bot.review.exports.csv import write_csv
from bot.review.search import Filters
from bot.web import codebook, overview, review
from storage.models import Attachment, AuditLog, Code, Coding, Delivery, Memo, Reflection, User
from tests.review.conftest import PNG, WHEN, World
from tests.review.helpers import client, csrf, sign_in
from tests.review.test_access import ALL, SEES

FORMULA = '=HYPERLINK("http://evil.example","click")'


async def _add_answers(world: World) -> tuple[int, int]:
    """A reflection that starts like a formula and a scale answer, both in Fife, for researchers."""
    async with world.services.sessions() as session, session.begin():
        team = await session.get(Reflection, world.reflections[("fife", "team")])
        assert team is not None
        formula = Reflection(
            person_id=team.person_id,
            project_id=team.project_id,
            kind="text",
            text=FORMULA,
            audience="researchers",
            channel="telegram",
            created_at=WHEN,
        )
        delivery = Delivery(
            person_id=team.person_id,
            project_id=team.project_id,
            slot=WHEN + timedelta(days=30),
            due_at=WHEN,
            prompt_key="check-in.confidence",
            prompt_kind="scale",
            prompt_text="How confident do you feel?",
            prompt_options=[{"value": v, "label": f"label-{v}"} for v in range(1, 6)],
            status="answered",
        )
        scale = Reflection(
            person_id=team.person_id,
            project_id=team.project_id,
            delivery=delivery,
            kind="scale",
            scale_value=4,
            audience="researchers",
            channel="telegram",
            created_at=WHEN,
        )
        session.add_all([formula, delivery, scale])
        await session.flush()
        return formula.id, scale.id


def _rows(body: str) -> dict[str, dict[str, str]]:
    body = body.removeprefix("\ufeff")  # the spreadsheet form starts with a byte-order mark
    return {row["reflection_id"]: row for row in csv.DictReader(io.StringIO(body))}


async def test_a_csv_cell_that_looks_like_a_formula_is_neutralised_unless_asked(
    world: World,
) -> None:
    formula, _ = await _add_answers(world)
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        token = await csrf(http, "/review/export")
        safe = await http.post("/review/export", data={"csrf": token, "format": "csv"})
        raw = await http.post(
            "/review/export", data={"csrf": token, "format": "csv", "cells": "raw"}
        )
    assert _rows(safe.text)[str(formula)]["text"] == "'" + FORMULA
    assert _rows(raw.text)[str(formula)]["text"] == FORMULA
    # Ordinary words are never touched.
    team = str(world.reflections[("fife", "team")])
    assert _rows(safe.text)[team]["text"] == _rows(raw.text)[team]["text"]
    assert not _rows(safe.text)[team]["text"].startswith("'")


async def test_the_library_and_command_line_neutralise_by_default_too(world: World) -> None:
    formula, _ = await _add_answers(world)
    async with world.services.sessions() as session:
        safe, raw = io.StringIO(), io.StringIO()
        await write_csv(session, cli_viewer(), Filters(), safe)
        await write_csv(session, cli_viewer(), Filters(), raw, safe_for_spreadsheets=False)
    assert _rows(safe.getvalue())[str(formula)]["text"] == "'" + FORMULA
    assert _rows(raw.getvalue())[str(formula)]["text"] == FORMULA


async def test_a_scale_answer_shows_the_label_of_the_button_tapped(world: World) -> None:
    _, scale = await _add_answers(world)
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        page = await http.get(f"/review/reflections/{scale}")
        token = await csrf(http, "/review/export")
        exported = await http.post("/review/export", data={"csrf": token, "format": "csv"})
        qdpx = await http.post("/review/export", data={"csrf": token, "format": "qdpx"})
    assert "Scale: 4 — label-4" in page.text
    row = _rows(exported.text)[str(scale)]
    assert (row["scale_value"], row["option_label"]) == ("4", "label-4")
    with zipfile.ZipFile(io.BytesIO(qdpx.content)) as archive:
        texts = [archive.read(n).decode() for n in archive.namelist() if n.endswith(".txt")]
    assert "Scale: 4 — label-4" in texts


def _post_paths(world: World, code_id: int, coding_id: int) -> list[str]:
    ids = {
        "reflection_id": str(world.reflections[("fife", "team")]),
        "code_id": str(code_id),
        "coding_id": str(coding_id),
    }
    paths = []
    for route in [*review.router.routes, *codebook.router.routes, *overview.router.routes]:
        if "POST" in getattr(route, "methods", set()):
            paths.append(re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], route.path))  # type: ignore[attr-defined]
    return paths


async def _stored(world: World) -> tuple[int, ...]:
    async with world.services.sessions() as session:
        counts = []
        for model in (Code, Coding, Memo, AuditLog):
            counts.append((await session.execute(select(func.count()).select_from(model))).scalar())
        users = (await session.execute(select(User.email, User.password_hash))).all()
        return (*counts, hash(tuple(sorted(users))))


async def test_every_form_without_its_csrf_token_is_refused_and_stores_nothing(
    world: World,
) -> None:
    async with world.services.sessions() as session, session.begin():
        code = await add_code(session, cli_viewer(), "Trust")
        reflection = await session.get(Reflection, world.reflections[("fife", "team")])
        assert reflection is not None
        coding = await apply_code(session, cli_viewer(), reflection, code.id, 0, 2)
        code_id, coding_id = code.id, coding.id
    paths = _post_paths(world, code_id, coding_id)
    assert len(paths) >= 8, paths
    form = {"text": "forged", "name": "Forged", "color": "#000000", "code_id": str(code_id)}
    form |= {"format": "csv", "start": "0", "end": "2", "email": "admin@example.org"}
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        before = await _stored(world)
        for path in paths:
            response = await http.post(path, data=form)
            assert response.status_code == 403, (path, response.status_code)
        after = await _stored(world)
        still_signed_in = await http.get("/review/reflections")
    assert after == before
    assert still_signed_in.status_code == 200


async def test_a_subcode_may_share_a_name_with_a_code_under_another_parent(world: World) -> None:
    viewer = cli_viewer()
    async with world.services.sessions() as session, session.begin():
        barriers = await add_code(session, viewer, "Barriers")
        enablers = await add_code(session, viewer, "Enablers")
        await add_code(session, viewer, "Time", parent_id=barriers.id)
        other = await add_code(session, viewer, "Tiem", parent_id=enablers.id)
        renamed = await update_code(
            session, viewer, other, name="Time", color="#123456", description=""
        )
    assert (renamed.name, renamed.parent_id) == ("Time", enablers.id)


async def test_the_export_page_tells_each_role_how_participants_appear(world: World) -> None:
    async with client(world.services) as http:
        await sign_in(http, "lead@example.org")
        lead = (await http.get("/review/export")).text
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        researcher = (await http.get("/review/export")).text
    assert "study code" not in lead and "by name where they chose" in lead
    assert "by study code" in researcher and "by name" not in researcher


async def test_the_list_shows_each_reflections_audience_in_the_chats_words(world: World) -> None:
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        page = (await http.get("/review/reflections")).text
        one = (await http.get(f"/review/reflections/{world.gaelic}")).text
    assert "Audience: Team, no name" in page and "Audience: Researchers" in page
    assert "Audience: Team, named" in page
    assert "<dt>Audience</dt><dd>Researchers</dd>" in one
    assert "Audience: team_anonymous" not in page


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("researcher", ["Fife family hub"], ["Dundee family hub"]),
        ("lead", ["Fife family hub"], ["Dundee family hub"]),
        ("dundee-lead", ["Dundee family hub"], ["Fife family hub"]),
        ("admin", ["Fife family hub", "Dundee family hub"], []),
    ],
)
async def test_the_dashboard_shows_each_role_only_its_own_projects(
    world: World, role: str, shown: list[str], hidden: list[str]
) -> None:
    async with client(world.services) as http:
        await sign_in(http, f"{role}@example.org")
        page = (await http.get("/review/dashboard")).text
    assert all(name in page for name in shown) and not any(name in page for name in hidden)
    assert not any(name in page for name in ("Morag", "Dougie", "P-001", "P-002"))


@pytest.mark.parametrize("role", sorted(SEES))
async def test_evidence_on_every_audience_opens_only_for_those_who_may_see_it(
    world: World, role: str
) -> None:
    attachments: dict[tuple[str, str], int] = {}
    async with world.services.sessions() as session, session.begin():
        for pair, reflection_id in world.reflections.items():
            attachment = Attachment(
                reflection_id=reflection_id,
                kind="photo",
                filename="board.png",
                content_type="image/png",
                size=len(PNG),
                sha256="0" * 64,
                path="evidence/board.png",
            )
            session.add(attachment)
            await session.flush()
            attachments[pair] = attachment.id
    async with client(world.services) as http:
        await sign_in(http, f"{role}@example.org")
        for pair in ALL:
            response = await http.get(f"/review/evidence/{attachments[pair]}")
            wanted = 200 if pair in SEES[role] else 404
            assert response.status_code == wanted, f"{role} opening evidence on {pair}"
            if wanted == 200:
                assert response.content == PNG


async def test_the_default_csv_opens_in_excel_and_the_raw_one_keeps_every_byte(
    world: World,
) -> None:
    words = 'Chaidh a’ chlann — 👍; "quoted", fine\r\nnext line'
    async with world.services.sessions() as session, session.begin():
        reflection = await session.get(Reflection, world.gaelic)
        assert reflection is not None
        reflection.text = words
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        token = await csrf(http, "/review/export")
        safe = await http.post("/review/export", data={"csrf": token, "format": "csv"})
        raw = await http.post(
            "/review/export", data={"csrf": token, "format": "csv", "cells": "raw"}
        )
    # Excel on Windows needs the byte-order mark to read UTF-8; every text cell is quoted, so a
    # locale splitting on ";" still sees one cell
    assert safe.content.startswith(b'\xef\xbb\xbf"reflection_id","created_utc",')
    team = world.reflections[("fife", "team")]
    assert re.search(rf'\r\n{team},"2027-[^"]*","[^"]*","Fife","Fife family hub",', safe.text)
    assert _rows(safe.content.decode("utf-8-sig"))[str(world.gaelic)]["text"] == words
    # the raw form: no mark, and the participant's words byte for byte
    assert raw.content.startswith(b"reflection_id,created_utc,")
    assert _rows(raw.content.decode("utf-8"))[str(world.gaelic)]["text"] == words
    assert words.replace('"', '""').encode("utf-8") in raw.content
