"""The access-control matrix: every role × audience × project, for the reflection page, the
list, search results, evidence and both exports."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile

import pytest

from storage.models import AUDIENCES
from tests.review.conftest import World, marker
from tests.review.helpers import client, csrf, listed_ids, sign_in

# role -> the (project, audience) pairs it may see. Each project has one participant, so its
# lead's digest holds every team_anonymous reflection back, and so does the workspace.
SEES: dict[str, set[tuple[str, str]]] = {
    "researcher": {("fife", a) for a in ("researchers", "team_anonymous", "team")},
    "lead": {("fife", "team")},
    "dundee-lead": {("dundee", "team")},
    "admin": {(p, a) for p in ("fife", "dundee") for a in AUDIENCES if a != "private"},
}
ALL = [(p, a) for p in ("fife", "dundee") for a in AUDIENCES]


def _expected_ids(world: World, role: str) -> set[int]:
    ids = {world.reflections[pair] for pair in SEES[role]}
    if role in ("researcher", "admin"):
        ids.add(world.gaelic)  # the Fife evidence reflection, audience "researchers"
    return ids


async def _export(http, fmt: str, **filters: str):  # type: ignore[no-untyped-def]
    token = await csrf(http, "/review/export")
    response = await http.post("/review/export", data={"csrf": token, "format": fmt, **filters})
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("role", sorted(SEES))
async def test_each_role_sees_exactly_what_the_audience_rules_allow_everywhere(
    world: World, role: str
) -> None:
    async with client(world.services) as http:
        assert (await sign_in(http, f"{role}@example.org")).status_code == 303
        expected = _expected_ids(world, role)

        for pair in ALL:
            page = await http.get(f"/review/reflections/{world.reflections[pair]}")
            wanted = 200 if pair in SEES[role] else 404
            assert page.status_code == wanted, f"{role} opening {pair}"
            if wanted == 200:
                assert marker(*pair) in page.text

        listing = await http.get("/review/reflections")
        assert listed_ids(listing.text) == expected, "the reflections list"
        found = await http.get("/review/reflections", params={"q": "marker hub"})
        assert listed_ids(found.text) == expected - {world.gaelic}, "search results"

        rows = list(
            csv.DictReader(io.StringIO((await _export(http, "csv")).content.decode("utf-8-sig")))
        )
        assert {int(r["reflection_id"]) for r in rows} == expected, "the CSV export"
        qdpx = zipfile.ZipFile(io.BytesIO((await _export(http, "qdpx")).content))
        sources = " ".join(qdpx.read(n).decode() for n in qdpx.namelist() if n.endswith(".txt"))
        for pair in ALL:
            assert (marker(*pair) + " ") in sources or pair not in SEES[role], f"qdpx {pair}"
            if pair not in SEES[role]:
                assert f"{marker(*pair)} " not in sources, f"qdpx leaks {pair}"

        evidence = await http.get(f"/review/evidence/{world.photo}")
        assert evidence.status_code == (200 if role in ("researcher", "admin") else 404)


async def test_researchers_see_study_codes_and_never_names(world: World) -> None:
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        page = await http.get(f"/review/reflections/{world.reflections[('fife', 'team')]}")
        assert "P-001" in page.text and "Morag" not in page.text
        export = await _export(http, "csv")
        assert "P-001" in export.text and "Morag" not in export.text
        evidence = await http.get(f"/review/reflections/{world.gaelic}")
        assert f'<img class="evidence" src="/review/evidence/{world.photo}"' in evidence.text
        photo = await http.get(f"/review/evidence/{world.photo}")
        assert photo.headers["content-type"] == "image/png"
        assert photo.content.startswith(b"\x89PNG")


async def test_leads_see_names_only_on_team_reflections_and_never_study_codes(
    world: World,
) -> None:
    async with client(world.services) as http:
        await sign_in(http, "lead@example.org")
        named = await http.get(f"/review/reflections/{world.reflections[('fife', 'team')]}")
        assert "Morag MacLeod" in named.text and "P-001" not in named.text
        rows = list(
            csv.DictReader(io.StringIO((await _export(http, "csv")).content.decode("utf-8-sig")))
        )
        by_audience = {r["audience"]: r["participant"] for r in rows}
        assert by_audience == {"team": "Morag MacLeod"}


async def test_a_lead_typing_another_partnerships_reflection_url_gets_not_found(
    world: World,
) -> None:
    async with client(world.services) as http:
        await sign_in(http, "lead@example.org")
        other = await http.get(f"/review/reflections/{world.reflections[('dundee', 'team')]}")
        missing = await http.get("/review/reflections/999999")
        assert other.status_code == missing.status_code == 404
        assert "Dundee" not in other.text


async def test_nobody_can_code_what_they_cannot_see_and_leads_cannot_code(world: World) -> None:
    async with client(world.services) as http:
        await sign_in(http, "lead@example.org")
        target = world.reflections[("fife", "team")]
        token = await csrf(http, f"/review/reflections/{target}")
        memo = await http.post(
            f"/review/reflections/{target}/memos", data={"csrf": token, "text": "a lead's note"}
        )
        assert memo.status_code == 400
        private = world.reflections[("fife", "private")]
        hidden = await http.post(
            f"/review/reflections/{private}/memos", data={"csrf": token, "text": "x"}
        )
        assert hidden.status_code == 404


async def test_every_export_is_recorded_in_the_audit_log(world: World) -> None:
    from sqlalchemy import select

    from storage.models import AuditLog

    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        await _export(http, "csv", phase="scoping")
    async with world.services.sessions() as session:
        entries = (
            (await session.execute(select(AuditLog).where(AuditLog.action == "export_csv")))
            .scalars()
            .all()
        )
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor == f"user:{world.users['researcher']}"
    assert entry.details["filters"] == {"phase": "scoping"}
    assert entry.details["reflections"] == 4


async def test_evidence_that_is_not_a_picture_is_only_ever_a_download(world: World) -> None:
    from storage.models import Attachment

    async with world.services.sessions() as session, session.begin():
        disguised = Attachment(
            reflection_id=world.gaelic,
            kind="photo",
            filename="x.html",
            content_type="text/html",
            size=3,
            sha256="0" * 64,
            path="evidence/board.png",
        )
        session.add(disguised)
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        page = await http.get(f"/review/reflections/{world.gaelic}")
        served = await http.get(f"/review/evidence/{disguised.id}")
    assert "script-src 'nonce-" in page.headers["content-security-policy"]
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in served.headers["content-security-policy"]


async def test_leads_and_participant_accounts_see_no_memos_on_any_page_or_export(
    world: World,
) -> None:
    from sqlalchemy import select

    from storage.models import Code, Memo, Person, User
    from tests.review.conftest import PASSWORD_HASH

    team = world.reflections[("fife", "team")]
    async with world.services.sessions() as session, session.begin():
        code = Code(name="Trust", color="#1f77b4", guid=str(uuid.uuid4()))
        session.add(code)
        await session.flush()
        session.add_all(
            [
                Memo(code_id=code.id, text="codememo-researchers-think", guid=str(uuid.uuid4())),
                Memo(reflection_id=team, text="reflectionmemo-quoting-her", guid=str(uuid.uuid4())),
            ]
        )
        morag = await session.scalar(select(Person).where(Person.key == "morag"))
        session.add(User(email="morag@example.org", person=morag, password_hash=PASSWORD_HASH))

    async def everything(email: str) -> str:
        async with client(world.services) as http:
            await sign_in(http, email)
            texts = [
                (await http.get("/review/codes")).text,
                (await http.get(f"/review/reflections/{team}")).text,
            ]
            for fmt in ("csv", "qdc", "qdpx"):
                response = await _export(http, fmt)
                if fmt == "qdpx":
                    archive = zipfile.ZipFile(io.BytesIO(response.content))
                    texts.extend(
                        archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                    )
                else:
                    texts.append(response.content.decode("utf-8-sig"))
        return "\n".join(texts)

    for email in ("researcher@example.org", "admin@example.org"):
        seen = await everything(email)
        assert "codememo-researchers-think" in seen and "reflectionmemo-quoting-her" in seen
    for email in ("lead@example.org", "morag@example.org"):
        seen = await everything(email)
        assert "codememo-researchers-think" not in seen, email
        assert "reflectionmemo-quoting-her" not in seen, email
    lead_page = await everything("lead@example.org")
    assert "marker-fife-team" in lead_page, "the lead still reads the reflection itself"
