"""The subject-access zip: everything held about one person, and nothing about anyone else."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

from sqlalchemy import select

from bot.privacy.access import FILES, write_export
from storage.models import Person
from tests.privacy.world import (
    AILSA_CAPTION,
    AILSA_PRIVATE,
    AILSA_WORDS,
    NOW,
    PHOTO,
    RUAIRIDH_WORDS,
    Privacy,
)


async def _export(privacy: Privacy, person_id: int, out: Path) -> zipfile.ZipFile:
    async with privacy.services.sessions() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        await write_export(session, person, privacy.data_dir, out, NOW)
    return zipfile.ZipFile(out)


async def test_the_zip_holds_everything_of_the_person_private_answers_and_files_included(
    privacy: Privacy, tmp_path: Path
) -> None:
    archive = await _export(privacy, privacy.ailsa_id, tmp_path / "ailsa.zip")

    names = archive.namelist()
    assert names[0] == "README.txt"
    assert sorted(n for n in names if n.endswith(".json")) == sorted(
        n for n in FILES if n.endswith(".json")
    )
    [photo] = [n for n in names if n.startswith("evidence/")]
    assert photo.endswith("-signage.jpg") and archive.read(photo) == PHOTO
    reflections = json.loads(archive.read("reflections.json"))
    assert sorted(r["text"] for r in reflections) == sorted(
        ["", AILSA_WORDS, AILSA_PRIVATE, AILSA_CAPTION]
    )
    assert {r["audience"] for r in reflections} >= {"private", "team", "researchers"}
    assert [r["scale_value"] for r in reflections if r["kind"] == "scale"] == [4]
    assert [f["file"] for r in reflections for f in r["files"]] == [photo]
    assert json.loads(archive.read("codings.json"))[0]["words"] == "drop-in"
    assert json.loads(archive.read("memos.json"))[0]["text"] == "Ties in with the rota theme"
    person = json.loads(archive.read("person.json"))
    assert (person["name"], person["email"]) == ("Ailsa Fraser", "ailsa.fraser@example.org")
    assert len(json.loads(archive.read("chat_accounts.json"))) == 2
    assert json.loads(archive.read("messages_received.json"))[0]["event_id"] == "evt-ailsa-1"
    assert [d["kind"] for d in json.loads(archive.read("digests.json"))] == ["what_we_heard"]
    readme = archive.read("README.txt").decode()
    assert privacy.ailsa_code in readme
    for name in FILES:
        assert f"\n{name}\n" in readme


async def test_the_zip_holds_nothing_about_anyone_else(privacy: Privacy, tmp_path: Path) -> None:
    async with privacy.services.sessions() as session:
        others = list(await session.scalars(select(Person).where(Person.id != privacy.ailsa_id)))
    archive = await _export(privacy, privacy.ailsa_id, tmp_path / "ailsa.zip")

    everything = "\n".join(
        archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
    )
    for other in others:
        for value in (other.name, other.study_code, other.email):
            assert not value or value not in everything, value
        assert f'"{other.key}"' not in everything
    for words in (RUAIRIDH_WORDS, "Holiday club again", "As one said"):
        assert words not in everything
    assert stat.S_IMODE((tmp_path / "ailsa.zip").stat().st_mode) == 0o600
