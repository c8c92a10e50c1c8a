from __future__ import annotations

import io
import zipfile
from pathlib import Path

from lxml import etree

from bot.review.access import cli_viewer
from bot.review.coding import add_code, add_memo, apply_code
from bot.review.exports.qda_xml import stable_guid
from bot.review.exports.qdc import codebook_xml
from bot.review.exports.reader import read_qdpx
from bot.review.exports.refi import write_qdpx
from bot.review.search import Filters
from storage.models import Reflection
from tests.review.conftest import GAELIC, World

# The REFI-QDA 1.0 schemas (MIT licence, www.qdasoftware.org), as in ../shared/specs/refi-qda/.
SPECS = Path(__file__).with_name("refi-qda")
NS = {"q": "urn:QDA-XML:project:1.0", "c": "urn:QDA-XML:codebook:1.0"}


def _schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SPECS / name)))


async def _code_the_gaelic_reflection(world: World) -> dict[str, int]:
    viewer = cli_viewer()
    async with world.services.sessions() as session, session.begin():
        feelings = await add_code(
            session,
            viewer,
            "Feelings",
            color="#aa3355",
            description="How people feel about the change",
        )
        hopeful = await add_code(session, viewer, "Hopeful", parent_id=feelings.id)
        place = await add_code(session, viewer, "Place")
        await add_code(session, viewer, "Unused <&> code", parent_id=hopeful.id)
        reflection = await session.get(Reflection, world.gaelic)
        assert reflection is not None
        thumb = GAELIC.index("👍")
        sgire = GAELIC.index("Sgìre")
        await apply_code(session, viewer, reflection, hopeful.id, thumb, thumb + 1)
        await apply_code(session, viewer, reflection, place.id, sgire, sgire + len("Sgìre"))
        await apply_code(session, viewer, reflection, feelings.id)
        await add_memo(
            session, viewer, "Worth asking about the thumbs up.", reflection_id=reflection.id
        )
        await add_memo(session, viewer, "Hopeful: forward-looking talk.", code_id=hopeful.id)
        return {"feelings": feelings.id, "hopeful": hopeful.id, "place": place.id}


async def test_the_codebook_export_validates_and_keeps_the_nesting(world: World) -> None:
    await _code_the_gaelic_reflection(world)
    async with world.services.sessions() as session:
        document = await codebook_xml(session)
    root = etree.fromstring(document)
    _schema("Codebook.xsd").assertValid(root)
    feelings = root.find("c:Codes/c:Code[@name='Feelings']", NS)
    assert feelings is not None
    assert feelings.get("color") == "#aa3355"
    assert feelings.findtext("c:Description", namespaces=NS) == "How people feel about the change"
    hopeful = feelings.find("c:Code[@name='Hopeful']", NS)
    assert hopeful is not None
    assert hopeful.find("c:Code[@name='Unused <&> code']", NS) is not None
    assert root.find(".//c:Sets", NS) is None


async def test_an_empty_codebook_still_gives_a_valid_file(world: World) -> None:
    async with world.services.sessions() as session:
        document = await codebook_xml(session)
    _schema("Codebook.xsd").assertValid(etree.fromstring(document))


def _zip_bytes(archive: zipfile.ZipFile) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as copy:
        for name in archive.namelist():
            copy.writestr(name, archive.read(name))
    return out.getvalue()


async def _export(world: World) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    async with world.services.sessions() as session:
        count = await write_qdpx(
            session, cli_viewer(), Filters(), buffer, Path(world.services.settings.data_dir)
        )
    assert count == 7  # 3 non-private reflections per project + the Gaelic one
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


async def test_the_project_export_validates_and_positions_select_the_right_characters(
    world: World,
) -> None:
    codes = await _code_the_gaelic_reflection(world)
    archive = await _export(world)
    root = etree.fromstring(archive.read("project.qde"))
    _schema("Project.xsd").assertValid(root)

    guid = stable_guid("reflection", world.gaelic)
    source = root.find(f"q:Sources/q:TextSource[@guid='{guid}']", NS)
    assert source is not None
    assert source.get("plainTextPath") == f"internal://{guid}.txt"
    text = archive.read(f"sources/{guid}.txt").decode("utf-8")
    assert text == GAELIC
    selected = {}
    for selection in source.findall("q:PlainTextSelection", NS):
        start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
        coding = selection.find("q:Coding/q:CodeRef", NS)
        if coding is not None:
            selected[coding.get("targetGUID")] = text[start:end]
    async with world.services.sessions() as session:
        from storage.models import Code

        guids = {name: (await session.get(Code, id_)).guid for name, id_ in codes.items()}
    # the whole-reflection coding is a selection of the whole text: importers drop bare codings
    assert selected == {guids["hopeful"]: "👍", guids["place"]: "Sgìre", guids["feelings"]: GAELIC}
    assert source.find("q:Coding", NS) is None


async def test_the_project_export_has_cases_notes_users_and_evidence(world: World) -> None:
    await _code_the_gaelic_reflection(world)
    archive = await _export(world)
    names = archive.namelist()
    assert all(n == "project.qde" or n.startswith("sources/") for n in names)
    root = etree.fromstring(archive.read("project.qde"))
    cases = {c.get("name"): c for c in root.findall("q:Cases/q:Case", NS)}
    assert set(cases) == {"P-001", "P-002"}  # study codes, never names
    assert b"Morag" not in archive.read("project.qde")
    variables = {v.get("guid"): v.get("name") for v in root.findall(".//q:Variable", NS)}
    values = {
        variables[v.find("q:VariableRef", NS).get("targetGUID")]: v.findtext(
            "q:TextValue", namespaces=NS
        )
        for v in cases["P-001"].findall("q:VariableValue", NS)
    }
    assert values == {"partnership": "Fife", "role": "participant"}
    notes = read_qdpx(io.BytesIO(_zip_bytes(archive))).notes.values()
    assert sorted(n.text for n in notes) == [
        "Hopeful: forward-looking talk.",
        "Worth asking about the thumbs up.",
    ]
    hopeful = root.find(".//q:Code[@name='Hopeful']", NS)
    assert hopeful.find("q:NoteRef", NS) is not None
    assert root.find("q:Users/q:User", NS) is not None
    picture = root.find("q:Sources/q:PictureSource", NS)
    assert picture is not None
    assert picture.get("name") == f"R{world.gaelic} · P-001 · 2027-03-11 · Fife family hub.png"
    assert picture.findtext("q:Description", namespaces=NS) == "Original file name: board.png"
    assert archive.read(picture.get("path").replace("internal://", "sources/")).startswith(
        b"\x89PNG"
    )
    photo_guid = picture.get("guid")
    assert photo_guid in [r.get("targetGUID") for r in cases["P-001"].findall("q:SourceRef", NS)]


async def test_an_export_with_nothing_coded_has_no_empty_containers(world: World) -> None:
    archive = await _export(world)
    root = etree.fromstring(archive.read("project.qde"))
    _schema("Project.xsd").assertValid(root)
    for tag in ("Sets", "Codes", "CodeBook", "Cases", "Notes", "Users", "Links", "Graphs"):
        for element in root.iter(f"{{{NS['q']}}}{tag}"):
            assert len(element) > 0, f"empty <{tag}/>"
    assert root.find("q:CodeBook", NS) is None


async def test_two_exports_of_the_same_project_use_the_same_guids(world: World) -> None:
    """Re-importing a later export into NVivo or ATLAS.ti must merge, not duplicate."""
    await _code_the_gaelic_reflection(world)

    async def guids() -> dict[str, list[str]]:
        out = io.BytesIO()
        async with world.services.sessions() as session:
            await write_qdpx(
                session, cli_viewer(), Filters(), out, Path(world.services.settings.data_dir)
            )
        with zipfile.ZipFile(out) as archive:
            root = etree.fromstring(archive.read("project.qde"))
        found: dict[str, list[str]] = {}
        for element in root.iter():
            if element.get("guid") and not str(element.tag).endswith("}Project"):
                found.setdefault(etree.QName(element).localname, []).append(element.get("guid"))
        return found

    first, second = await guids(), await guids()
    assert first == second
    assert {"TextSource", "PlainTextSelection", "Code", "Case", "Variable", "Note"} <= set(first)
