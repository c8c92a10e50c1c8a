"""Starting from a codebook the researchers already have: .qdc, .qdpx and Taguette CSV."""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from adapters.errors import CodebookError
from bot.cli import main
from bot.review.access import cli_viewer
from bot.review.codebook_import import apply_merge, plan_merge, read_codebook
from bot.review.coding import add_code, codebook, flatten
from bot.review.exports.qdc import codebook_xml
from bot.review.exports.refi import write_qdpx
from bot.review.search import Filters
from bot.services import Services
from storage.models import AuditLog, Code
from tests.review.conftest import World
from tests.review.helpers import client, csrf, sign_in

# As NVivo writes one: upper-case guids, colours, a nested code, an empty description.
NVIVO_QDC = b"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="NVivo 14">
  <Codes>
    <Code guid="A1B2C3D4-0000-4000-8000-000000000001" name="Barriers" isCodable="true"
          color="#AA0000">
      <Description>What gets in the way</Description>
      <Code guid="A1B2C3D4-0000-4000-8000-000000000002" name="Time" isCodable="true"/>
      <Code guid="A1B2C3D4-0000-4000-8000-000000000003" name="Other" isCodable="true"/>
    </Code>
    <Code guid="A1B2C3D4-0000-4000-8000-000000000004" name="Enablers" isCodable="true">
      <Code guid="A1B2C3D4-0000-4000-8000-000000000005" name="Other" isCodable="true">
        <Description>Anything else that helps</Description>
      </Code>
    </Code>
  </Codes>
</CodeBook>
"""

TAGUETTE_CSV = (
    "\ufefftag,description,number of highlights\r\n"
    "interesting,Worth a second look,4\r\n"
    "Barriers,Things in the way — fàilte,2\r\n"
    "follow up 👀,,0\r\n"
).encode()


async def _tree(services: Services) -> dict[str, str]:
    """Every code by name path, with its description."""
    async with services.sessions() as session:
        nodes = await codebook(session)
    found: dict[str, str] = {}

    def walk(items, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for node in items:
            path = f"{prefix}{node.code.name}"
            found[path] = node.code.description
            walk(node.children, path + "/")

    walk(nodes, "")
    return found


async def _import(services: Services, name: str, data: bytes, dry_run: bool = False) -> list[str]:
    codes = read_codebook(name, data)
    async with services.sessions() as session, session.begin():
        plan = await plan_merge(session, codes)
        if not dry_run:
            await apply_merge(session, cli_viewer(), plan)
    return plan.summary()


async def test_a_codebook_from_nvivo_is_merged_by_name_path(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        # already here: "Barriers" (no description) and "Time" under it
        barriers = await add_code(session, cli_viewer(), "Barriers")
        await add_code(session, cli_viewer(), "Time", parent_id=barriers.id, description="ours")

    preview = await _import(world.services, "nvivo.qdc", NVIVO_QDC, dry_run=True)
    assert preview[0] == "3 code(s) to add, 1 description(s) to fill in, 1 already in the codebook."
    assert "  add   Enablers / Other" in preview
    assert await _tree(world.services) == {"Barriers": "", "Barriers/Time": "ours"}

    await _import(world.services, "nvivo.qdc", NVIVO_QDC)
    assert await _tree(world.services) == {
        "Barriers": "What gets in the way",
        "Barriers/Other": "",
        "Barriers/Time": "ours",  # an existing description is never overwritten
        "Enablers": "",
        "Enablers/Other": "Anything else that helps",
    }
    async with world.services.sessions() as session:
        other = (
            await session.execute(
                select(Code).where(Code.description == "Anything else that helps")
            )
        ).scalar_one()
    # the tool's guid is kept, so a later .qdpx merges into the same code there
    assert other.guid == "a1b2c3d4-0000-4000-8000-000000000005"
    assert other.color == "#1f77b4"

    again = await _import(world.services, "nvivo.qdc", NVIVO_QDC)
    assert again[0] == "0 code(s) to add, 0 description(s) to fill in, 5 already in the codebook."


async def test_carbots_own_codebook_and_project_read_back_as_the_same_tree(world: World) -> None:
    await _import(world.services, "nvivo.qdc", NVIVO_QDC)
    before = await _tree(world.services)
    async with world.services.sessions() as session:
        qdc = await codebook_xml(session)
        qdpx = io.BytesIO()
        await write_qdpx(
            session, cli_viewer(), Filters(), qdpx, Path(world.services.settings.data_dir)
        )
    # "Barriers › Other" with "Name in carbot: Other" is "Other" under "Barriers" again
    for name, data in [("carbot.qdc", qdc), ("carbot.qdpx", qdpx.getvalue())]:
        paths = [" / ".join(code.path) for code in read_codebook(name, data)]
        assert sorted(paths) == sorted(p.replace("/", " / ") for p in before), name
        assert all("Name in carbot" not in c.description for c in read_codebook(name, data))
        summary = await _import(world.services, name, data)
        assert summary[0].startswith("0 code(s) to add, 0 description(s)"), name
    assert await _tree(world.services) == before


async def test_a_taguette_codebook_adds_flat_tags_and_fills_descriptions(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        await add_code(session, cli_viewer(), "Barriers")
    await _import(world.services, "codebook.csv", TAGUETTE_CSV)
    assert await _tree(world.services) == {
        "Barriers": "Things in the way — fàilte",
        "interesting": "Worth a second look",
        "follow up 👀": "",
    }


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "broken.qdc",
            b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0">\n<Codes>\n<Code name="A">\n',
            "line 4: not well-formed XML",
        ),
        (
            "nameless.qdc",
            b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>\n'
            b'<Code name="A"/>\n<Code guid="x"/></Codes></CodeBook>',
            "line 3: a code has no name",
        ),
        ("other.qdc", b"<html><body/></html>", "line 1: not a REFI-QDA codebook"),
        (
            "latin1.csv",
            "tag,description\nok,fine\ncaf\xe9,x\n".encode("latin-1"),
            "line 3, column 4: not UTF-8",
        ),
        (
            "notags.csv",
            b"name,description\nA,b\n",
            "line 1: a Taguette codebook has a 'tag' column",
        ),
        ("blank.csv", b"tag,description\nA,b\n,no name\n", "line 3: this row has no tag name"),
        ("twice.csv", b"tag\nA\nB\nA\n", "line 4: 'A' is in the file twice (also line 2)"),
        ("notes.txt", b"just some words", "choose a REFI-QDA codebook (.qdc)"),
        ("huge.qdc", b"<" + b" " * (5 * 1024 * 1024), "a codebook file may be at most 5 MB"),
    ],
)
async def test_a_malformed_codebook_names_its_line_and_changes_nothing(
    world: World, name: str, data: bytes, message: str
) -> None:
    with pytest.raises(CodebookError) as raised:
        read_codebook(name, data)
    assert message in str(raised.value)
    assert str(raised.value).startswith(name)
    async with world.services.sessions() as session:
        assert (await session.execute(select(func.count(Code.id)))).scalar_one() == 0


def test_codebook_import_on_the_command_line_has_a_dry_run(
    cli_world: World, tmp_path: Path
) -> None:
    source = tmp_path / "nvivo.qdc"
    source.write_bytes(NVIVO_QDC)
    dry = CliRunner().invoke(main, ["codebook", "import", str(source), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "5 code(s) to add" in dry.output and "Dry run: nothing changed." in dry.output
    real = CliRunner().invoke(main, ["codebook", "import", str(source)])
    assert real.exit_code == 0, real.output
    assert "Imported nvivo.qdc: 5 code(s) added." in real.output

    async def check() -> tuple[int, int]:
        services = cli_world.services.__class__.from_settings(cli_world.services.settings)
        try:
            async with services.sessions() as session:
                codes = len(flatten(await codebook(session)))
                audits = (
                    await session.execute(
                        select(func.count(AuditLog.id)).where(AuditLog.action == "codebook_import")
                    )
                ).scalar_one()
            return codes, audits
        finally:
            await services.close()

    assert asyncio.run(check()) == (5, 1)
    bad = tmp_path / "bad.qdc"
    bad.write_bytes(b"<CodeBook")
    refused = CliRunner().invoke(main, ["codebook", "import", str(bad)])
    assert refused.exit_code == 1
    assert "bad.qdc, line 1: not well-formed XML" in refused.output
    assert asyncio.run(check()) == (5, 1)


async def test_the_codebook_page_previews_then_imports_an_upload(world: World) -> None:
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        token = await csrf(http, "/review/codes")
        upload = {"file": ("nvivo.qdc", NVIVO_QDC, "application/xml")}
        preview = await http.post(
            "/review/codes/import", data={"csrf": token, "action": "preview"}, files=upload
        )
        assert preview.status_code == 200
        assert "Preview, nothing changed yet: 5 code(s) to add" in preview.text
        assert await _tree(world.services) == {}
        done = await http.post(
            "/review/codes/import", data={"csrf": token, "action": "import"}, files=upload
        )
        assert "Imported nvivo.qdc: 5 code(s) to add" in done.text
        assert len(await _tree(world.services)) == 5
        broken = await http.post(
            "/review/codes/import",
            data={"csrf": token, "action": "import"},
            files={"file": ("broken.qdc", b"<CodeBook", "application/xml")},
        )
        assert broken.status_code == 400
        assert "broken.qdc, line 1: not well-formed XML" in broken.text
        forged = await http.post(
            "/review/codes/import", data={"csrf": "forged", "action": "import"}, files=upload
        )
        assert forged.status_code == 403


async def test_a_lead_cannot_import_a_codebook(world: World) -> None:
    async with client(world.services) as http:
        await sign_in(http, "lead@example.org")
        token = await csrf(http, "/review/reflections")
        refused = await http.post(
            "/review/codes/import",
            data={"csrf": token, "action": "import"},
            files={"file": ("nvivo.qdc", NVIVO_QDC, "application/xml")},
        )
    assert refused.status_code == 400
    assert "Only researchers and admins change the codebook." in refused.text
    assert await _tree(world.services) == {}


async def test_a_codebook_upload_over_one_megabyte_is_read_and_one_over_five_is_refused(
    world: World,
) -> None:
    codes = "".join(
        f'<Code guid="{uuid.UUID(int=n)}" name="Code {n:05d} {"x" * 60}" isCodable="true"/>\n'
        for n in range(1, 15000)
    )
    big = f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>\n{codes}</Codes></CodeBook>'.encode()
    assert 1024 * 1024 < len(big) < 5 * 1024 * 1024
    async with client(world.services) as http:
        await sign_in(http, "researcher@example.org")
        token = await csrf(http, "/review/codes")
        preview = await http.post(
            "/review/codes/import",
            data={"csrf": token, "action": "preview"},
            files={"file": ("big.qdc", big, "application/xml")},
        )
        assert "14999 code(s) to add" in preview.text
        huge = await http.post(
            "/review/codes/import",
            data={"csrf": token, "action": "preview"},
            files={"file": ("huge.qdc", big * 4, "application/xml")},
        )
    assert huge.status_code == 413
