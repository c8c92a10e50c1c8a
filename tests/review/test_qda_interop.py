"""A demo-sized export opens whole in a QDA tool: what QualCoder, NVivo, ATLAS.ti and MAXQDA need.

The study here is shaped like the seeded demo after a few weeks of coding: 160 text
reflections, photos and voice notes uploaded under the same file names, span and
whole-reflection codings, two codes called "Other" under different parents, memos on reflections
and on codes, and text with emoji, Gaelic accents, CR/LF and lone-CR line breaks. The export is
read back by carbot's own REFI-QDA reader and compared with the database.
"""

from __future__ import annotations

import io
import wave
import zipfile
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select

from bot.review.access import cli_viewer
from bot.review.coding import add_code, add_memo, apply_code
from bot.review.exports.qda_xml import stable_guid
from bot.review.exports.reader import read_qdpx
from bot.review.exports.refi import write_qdpx
from bot.review.search import Filters
from storage.models import Attachment, Code, Coding, Memo, Person, Reflection
from tests.review.conftest import PNG, WHEN, World

NS = {"q": "urn:QDA-XML:project:1.0"}
TEXTS = [
    "Families came early 👍 and stayed — it’s working",
    "Chaidh a’ chlann dhan sgoil; bha an t-sìde brèagha",
    "First line\r\nsecond line\r\nthird: the hub felt busy",
    "Lone CR\rbreaks\rhere, then the end",
    "Plain words about the Monday drop-in",
]


def _wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * int(8000 * seconds))
    return out.getvalue()


async def _demo_sized(world: World) -> dict[str, int]:
    """Add 160 reflections, 8 media files with repeated names, codes, codings and memos."""
    viewer = cli_viewer()
    data_dir = Path(world.services.settings.data_dir)
    (data_dir / "evidence").mkdir(parents=True, exist_ok=True)
    async with world.services.sessions() as session, session.begin():
        morag = (
            await session.execute(select(Person).where(Person.study_code == "P-001"))
        ).scalar_one()
        barriers = await add_code(session, viewer, "Barriers")
        enablers = await add_code(session, viewer, "Enablers", description="What helps")
        barrier_other = await add_code(session, viewer, "Other", parent_id=barriers.id)
        enabler_other = await add_code(
            session, viewer, "Other", parent_id=enablers.id, description="Anything else"
        )
        time = await add_code(session, viewer, "Time", parent_id=barriers.id)
        codes = [barrier_other, enabler_other, time, enablers]
        for index in range(160):
            text = TEXTS[index % len(TEXTS)]
            reflection = Reflection(
                person=morag,
                project_id=world.projects["fife"],
                phase_id=world.phases["fife"],
                kind="text",
                text=text,
                audience="researchers",
                channel="webchat",
                created_at=WHEN + timedelta(hours=index),
            )
            session.add(reflection)
            await session.flush()
            if index % 2 == 0:
                start = text.index(" ") + 1
                end = min(len(text), start + 12)
                await apply_code(session, viewer, reflection, codes[index % 4].id, start, end)
            if index % 3 == 0:
                await apply_code(session, viewer, reflection, codes[(index + 1) % 4].id)
            if index % 2 == 1 and "\r" in text:
                # a span running across a line break
                start = text.index("\r") - 3
                await apply_code(session, viewer, reflection, time.id, start, start + 8)
            if index % 9 == 0:
                await add_memo(
                    session, viewer, f"Memo {index}: ask about this ✍️", reflection_id=reflection.id
                )
            if index < 8:
                photo = index % 2 == 0
                name = "photo.png" if photo else "voice-note.wav"
                stored = f"evidence/{index}-{name}"
                content = PNG if photo else _wav(1.5)
                (data_dir / stored).write_bytes(content)
                session.add(
                    Attachment(
                        reflection_id=reflection.id,
                        kind="photo" if photo else "voice",
                        filename=name,
                        content_type="image/png" if photo else "audio/wav",
                        size=len(content),
                        sha256="0" * 64,
                        path=stored,
                    )
                )
        await add_memo(
            session, viewer, "Other barriers: mostly transport.", code_id=barrier_other.id
        )
        await add_memo(session, viewer, "Enablers: volunteers 🙌", code_id=enablers.id)
        return {"barrier_other": barrier_other.id, "enabler_other": enabler_other.id}


async def _export(world: World) -> bytes:
    out = io.BytesIO()
    async with world.services.sessions() as session:
        await write_qdpx(
            session, cli_viewer(), Filters(), out, Path(world.services.settings.data_dir)
        )
    return out.getvalue()


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


async def test_a_demo_sized_export_reads_back_with_nothing_lost(world: World) -> None:
    await _demo_sized(world)
    project = read_qdpx(io.BytesIO(await _export(world)))
    assert project.problems == []

    async with world.services.sessions() as session:
        reflections = {
            r.id: r
            for r in (
                await session.execute(select(Reflection).where(Reflection.audience != "private"))
            ).scalars()
        }
        codings = (await session.execute(select(Coding))).scalars().all()
        code_guids = {c.id: c.guid for c in (await session.execute(select(Code))).scalars()}
        memos = (await session.execute(select(Memo))).scalars().all()

    texts = {s.guid: s for s in project.sources.values() if s.kind == "text"}
    assert {stable_guid("reflection", i) for i in reflections} == set(texts)
    for reflection_id, reflection in reflections.items():
        if reflection.text:
            assert texts[stable_guid("reflection", reflection_id)].text == _lf(reflection.text)

    # every coding: same code, same characters (line breaks as LF); whole ones cover the text
    exported = {
        (source.guid, code, source.text[s.start : s.end])
        for source, s, code in project.codings
        if source.kind == "text" and source.text is not None
    }
    for coding in codings:
        source = texts[stable_guid("reflection", coding.reflection_id)]
        stored = reflections[coding.reflection_id].text
        chosen = stored if coding.start is None else stored[coding.start : coding.end]
        assert (source.guid, code_guids[coding.code_id], _lf(chosen)) in exported
    text_codings = [c for c in project.codings if c[0].kind == "text"]
    assert len(text_codings) == len(codings)
    assert all(selection.kind == "PlainTextSelection" for _, selection, _ in text_codings)

    # 8 media files under 2 upload names (and the world's board.png) → distinct source names,
    # the upload name kept
    media = [s for s in project.sources.values() if s.kind in ("picture", "audio")]
    assert len(media) == 9
    assert len({s.name for s in project.sources.values()}) == len(project.sources)
    assert sorted(s.description for s in media) == [
        "Original file name: board.png",
        *["Original file name: photo.png"] * 4,
        *["Original file name: voice-note.wav"] * 4,
    ]
    assert all(s.name.endswith((".png", ".wav")) for s in media)

    # memos: every one is a note, reachable from a selection and written into a description
    assert {n.text for n in project.notes.values()} == {m.text for m in memos}
    referred = {g for s in project.sources.values() for sel in s.selections for g in sel.note_guids}
    referred |= {g for code in project.codes.values() for g in code.note_guids}
    assert referred == {m.guid for m in memos}
    descriptions = " ".join(
        [s.description for s in project.sources.values()]
        + [c.description for c in project.codes.values()]
    )
    assert all(m.text in descriptions for m in memos)

    # each participant is a case by study code, holding their text and media sources
    cases = {c.name: set(c.source_guids) for c in project.cases.values()}
    assert sorted(cases) == ["P-001", "P-002"]
    assert cases["P-001"] | cases["P-002"] == set(texts) | {s.guid for s in media}
    assert not cases["P-001"] & cases["P-002"]


async def test_codes_sharing_a_name_get_their_parent_path_in_every_export(world: World) -> None:
    ids = await _demo_sized(world)
    project = read_qdpx(io.BytesIO(await _export(world)))
    names = sorted(c.name for c in project.codes.values())
    assert names == ["Barriers", "Barriers › Other", "Enablers", "Enablers › Other", "Time"]
    enabler_other = next(c for c in project.codes.values() if c.name == "Enablers › Other")
    assert enabler_other.description == "Anything else\n\nName in carbot: Other"
    parent = project.codes[enabler_other.parent or ""]
    assert parent.name == "Enablers"
    async with world.services.sessions() as session:
        from bot.review.exports.csv import write_csv
        from bot.review.exports.qdc import codebook_xml

        text = io.StringIO()
        await write_csv(session, cli_viewer(), Filters(), text)
        qdc = etree.fromstring(await codebook_xml(session))
        other = await session.get(Code, ids["barrier_other"])
        assert other is not None and other.name == "Other"  # the codebook itself is untouched
    assert "Barriers › Other" in text.getvalue() and "Enablers › Other" in text.getvalue()
    qdc_names = [c.get("name") for c in qdc.iter("{urn:QDA-XML:codebook:1.0}Code")]
    assert sorted(qdc_names) == names


async def test_whole_reflection_codings_cover_the_whole_photo_and_voice_note(world: World) -> None:
    await _demo_sized(world)
    data = await _export(world)
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("project.qde"))
    pictures = root.findall("q:Sources/q:PictureSource/q:PictureSelection", NS)
    clips = root.findall("q:Sources/q:AudioSource/q:AudioSelection", NS)
    # reflections 0..7 carry the media; whole-reflection codings fall on every third one (0, 3, 6)
    assert len(pictures) == 2 and len(clips) == 1
    assert {(p.get("secondX"), p.get("secondY")) for p in pictures} == {("1", "1")}
    assert [(c.get("begin"), c.get("end")) for c in clips] == [("0", "1500")]
    assert all(s.find("q:Coding/q:CodeRef", NS) is not None for s in pictures + clips)


async def test_export_check_counts_a_good_file_and_fails_a_broken_one(
    world: World, tmp_path: Path
) -> None:
    from bot.cli import main

    await _demo_sized(world)
    good = tmp_path / "good.qdpx"
    good.write_bytes(await _export(world))
    result = CliRunner().invoke(main, ["export", "check", str(good)])
    assert result.exit_code == 0, result.output
    project = read_qdpx(good)
    counts = project.counts()
    assert result.output.splitlines()[0] == (
        f"{counts['sources']} sources, 5 codes, {counts['codings']} codings, 20 memos, 2 cases"
    )
    assert "No problems found." in result.output

    # break it the three ways importers trip over
    with zipfile.ZipFile(good) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    root = etree.fromstring(entries["project.qde"])
    sources = root.findall("q:Sources/q:TextSource", NS)
    sources[1].set("name", sources[0].get("name"))
    selection = root.find("q:Sources/q:TextSource/q:PlainTextSelection", NS)
    selection.set("endPosition", "100000")
    ref = root.find(".//q:CodeRef", NS)
    ref.set("targetGUID", "00000000-0000-4000-8000-000000000000")
    entries["project.qde"] = etree.tostring(root)
    bad = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(bad, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    result = CliRunner().invoke(main, ["export", "check", str(bad)])
    assert result.exit_code == 1
    assert "is used twice" in result.output
    assert "is outside the text" in result.output
    assert "refers to a code that is not there" in result.output


def test_export_check_refuses_a_file_that_is_not_a_project(tmp_path: Path) -> None:
    from bot.cli import main

    junk = tmp_path / "junk.qdpx"
    junk.write_bytes(b"not a zip")
    result = CliRunner().invoke(main, ["export", "check", str(junk)])
    assert result.exit_code == 1
    assert "not a .qdpx" in result.output


def test_export_check_names_a_code_name_used_twice_and_fails(tmp_path: Path) -> None:
    from bot.cli import main

    qde = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="Two of one name" origin="a test">\n'
        "  <CodeBook><Codes>\n"
        '    <Code guid="6f9a3c1e-0000-4000-8000-000000000001" name="Barriers" isCodable="true">\n'
        '      <Code guid="6f9a3c1e-0000-4000-8000-000000000002" name="Time" isCodable="true"/>\n'
        "    </Code>\n"
        '    <Code guid="6f9a3c1e-0000-4000-8000-000000000003" name="Enablers" isCodable="true"/>\n'
        '    <Code guid="6f9a3c1e-0000-4000-8000-000000000004" name="time" isCodable="true"/>\n'
        "  </Codes></CodeBook>\n"
        "</Project>\n"
    )
    repeated = tmp_path / "repeated.qdpx"
    with zipfile.ZipFile(repeated, "w") as archive:
        archive.writestr("project.qde", qde)
    result = CliRunner().invoke(main, ["export", "check", str(repeated)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("0 sources, 4 codes, 0 codings")
    assert f"{repeated}: line 8: code name 'time' is used twice (also line 5)" in result.output
    assert "1 problem(s): a QDA tool may refuse this file." in result.output
