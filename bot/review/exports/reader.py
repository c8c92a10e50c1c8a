"""Reading a REFI-QDA project (``.qdpx``) back, and checking it the way importers need it.

This is carbot's own importer of what it exports: ``carbot export check FILE.qdpx`` uses it to
count what a file holds and to find what would break an import (a dangling reference, two
sources or two codes with one name, a selection outside its text), and the round-trip tests
use it to show an export loses nothing.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lxml import etree

from adapters.errors import UnreadableProject

PROJECT_NS = "urn:QDA-XML:project:1.0"
MAX_XML_BYTES = 512 * 1024 * 1024
_Q = f"{{{PROJECT_NS}}}"
SOURCE_TAGS = {
    "TextSource": "text",
    "PictureSource": "picture",
    "AudioSource": "audio",
    "VideoSource": "video",
    "PDFSource": "pdf",
}
SELECTION_TAGS = {
    "PlainTextSelection",
    "PictureSelection",
    "AudioSelection",
    "VideoSelection",
    "PDFSelection",
}


@dataclass
class Selection:
    guid: str
    kind: str  # PlainTextSelection, PictureSelection, … or "" for a coding on the whole source
    start: int | None
    end: int | None
    code_guids: list[str]
    note_guids: list[str]
    description: str
    line: int


@dataclass
class Source:
    guid: str
    kind: str  # text, picture, audio, …
    name: str
    path: str
    text: str | None  # the plain text of a text source, None when unreadable
    description: str
    selections: list[Selection] = field(default_factory=list)
    note_guids: list[str] = field(default_factory=list)
    line: int = 0


@dataclass
class CodeEntry:
    guid: str
    name: str
    parent: str | None
    description: str
    note_guids: list[str]
    line: int


@dataclass
class Note:
    guid: str
    name: str
    text: str | None


@dataclass
class Case:
    guid: str
    name: str
    source_guids: list[str]


@dataclass
class Project:
    sources: dict[str, Source]
    codes: dict[str, CodeEntry]
    notes: dict[str, Note]
    cases: dict[str, Case]
    users: set[str]
    variables: set[str]
    problems: list[str]

    @property
    def codings(self) -> list[tuple[Source, Selection, str]]:
        """Every (source, selection, code guid) — one per code applied."""
        return [
            (source, selection, code)
            for source in self.sources.values()
            for selection in source.selections
            for code in selection.code_guids
        ]

    def counts(self) -> dict[str, int]:
        return {
            "sources": len(self.sources),
            "codes": len(self.codes),
            "codings": len(self.codings),
            "memos": len(self.notes),
            "cases": len(self.cases),
        }


def _text(element: Any, tag: str) -> str:
    found = element.find(_Q + tag)
    return (found.text or "") if found is not None else ""


def _refs(element: Any, tag: str) -> list[str]:
    return [ref.get("targetGUID", "") for ref in element.findall(_Q + tag)]


def _int(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.lstrip("-").isdigit():
        return None
    return int(value)


def _member(archive: zipfile.ZipFile, path: str) -> str | None:
    """The zip entry an ``internal://`` path names (QualCoder accepts Sources/ or sources/)."""
    if not path.startswith("internal://"):
        return None
    name = path.removeprefix("internal://")
    names = set(archive.namelist())
    for folder in ("sources/", "Sources/"):
        if folder + name in names:
            return folder + name
    return None


def read_qdpx(file: str | Path | IO[bytes]) -> Project:
    """Read a ``.qdpx``; what an importer would trip over is listed in ``problems``."""
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError) as error:
        raise UnreadableProject(f"not a .qdpx (a zip file): {error}") from error
    with archive:
        try:
            info = archive.getinfo("project.qde")
        except KeyError as error:
            raise UnreadableProject("no project.qde inside the .qdpx") from error
        if info.file_size > MAX_XML_BYTES:
            raise UnreadableProject("project.qde is too large to read")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        try:
            root = etree.fromstring(archive.read(info), parser)
        except etree.XMLSyntaxError as error:
            raise UnreadableProject(f"project.qde is not well-formed XML: {error}") from error
        if root.tag != _Q + "Project":
            raise UnreadableProject(
                "project.qde is not a REFI-QDA project (urn:QDA-XML:project:1.0)"
            )
        return _read(root, archive)


def _read(root: Any, archive: zipfile.ZipFile) -> Project:
    problems: list[str] = []
    project = Project({}, {}, {}, {}, set(), set(), problems)
    project.users = {u.get("guid", "") for u in root.iterfind(f"{_Q}Users/{_Q}User")}
    project.variables = {v.get("guid", "") for v in root.iterfind(f"{_Q}Variables/{_Q}Variable")}

    def codes(parent: Any, parent_guid: str | None) -> None:
        for element in parent.findall(_Q + "Code"):
            guid = element.get("guid", "")
            project.codes[guid] = CodeEntry(
                guid,
                element.get("name", ""),
                parent_guid,
                _text(element, "Description"),
                _refs(element, "NoteRef"),
                element.sourceline or 0,
            )
            codes(element, guid)

    codes_element = root.find(f"{_Q}CodeBook/{_Q}Codes")
    if codes_element is not None:
        codes(codes_element, None)

    for element in root.iterfind(f"{_Q}Notes/{_Q}Note"):
        guid = element.get("guid", "")
        content = element.find(_Q + "PlainTextContent")
        text: str | None = content.text or "" if content is not None else None
        if text is None and element.get("plainTextPath"):
            member = _member(archive, element.get("plainTextPath", ""))
            if member is None:
                problems.append(f"line {element.sourceline}: note {guid} names a missing file")
            else:
                text = archive.read(member).decode("utf-8", errors="replace")
        project.notes[guid] = Note(guid, element.get("name", ""), text)

    sources = root.find(_Q + "Sources")
    for element in sources if sources is not None else []:
        tag = etree.QName(element).localname
        if tag not in SOURCE_TAGS:
            continue
        project.sources[element.get("guid", "")] = _source(element, tag, archive, problems)

    for element in root.iterfind(f"{_Q}Cases/{_Q}Case"):
        guid = element.get("guid", "")
        project.cases[guid] = Case(guid, element.get("name", ""), _refs(element, "SourceRef"))

    _check(root, project)
    return project


def _source(element: Any, tag: str, archive: zipfile.ZipFile, problems: list[str]) -> Source:
    guid = element.get("guid", "")
    path = element.get("plainTextPath") or element.get("path") or ""
    text: str | None = None
    member = _member(archive, path) if path else None
    if path.startswith("internal://") and member is None:
        problems.append(
            f"line {element.sourceline}: source {element.get('name')!r} names {path}, "
            "which is not in the file"
        )
    if tag == "TextSource":
        inline = element.find(_Q + "PlainTextContent")
        if inline is not None:
            text = inline.text or ""
        elif member is not None:
            raw = archive.read(member)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(
                    f"line {element.sourceline}: the text of {element.get('name')!r} is not UTF-8"
                )
    source = Source(
        guid,
        SOURCE_TAGS[tag],
        element.get("name", ""),
        path,
        text,
        _text(element, "Description"),
        note_guids=_refs(element, "NoteRef"),
        line=element.sourceline or 0,
    )
    for child in element:
        kind = etree.QName(child).localname
        if kind in SELECTION_TAGS:
            start, end = (
                ("startPosition", "endPosition")
                if kind in ("PlainTextSelection",)
                else ("begin", "end")
                if kind in ("AudioSelection", "VideoSelection")
                else ("firstX", "secondX")
            )
            codings = [
                ref for coding in child.findall(_Q + "Coding") for ref in _refs(coding, "CodeRef")
            ]
            source.selections.append(
                Selection(
                    child.get("guid", ""),
                    kind,
                    _int(child.get(start)),
                    _int(child.get(end)),
                    codings,
                    _refs(child, "NoteRef"),
                    _text(child, "Description"),
                    child.sourceline or 0,
                )
            )
        elif kind == "Coding":
            source.selections.append(
                Selection(
                    child.get("guid", ""),
                    "",
                    None,
                    None,
                    _refs(child, "CodeRef"),
                    [],
                    "",
                    child.sourceline or 0,
                )
            )
    return source


def _unique_names(what: str, items: list[Source] | list[CodeEntry], problems: list[str]) -> None:
    """Importers need every source and every code to have a name of its own (letter case aside:
    QualCoder saves sources as files, and Windows and macOS ignore case in file names)."""
    seen: dict[str, int] = {}
    for item in items:
        key = item.name.casefold()
        if not item.name:
            problems.append(f"line {item.line}: a {what} has no name")
        elif key in seen:
            problems.append(
                f"line {item.line}: {what} name {item.name!r} is used twice (also line {seen[key]})"
            )
        seen.setdefault(key, item.line)


def _check(root: Any, project: Project) -> None:
    problems = project.problems
    _unique_names("source", list(project.sources.values()), problems)
    _unique_names("code", list(project.codes.values()), problems)
    for source in project.sources.values():
        for selection in source.selections:
            where = f"line {selection.line}: in {source.name!r}"
            for code_guid in selection.code_guids:
                if code_guid not in project.codes:
                    problems.append(
                        f"{where}: a coding refers to a code that is not there ({code_guid})"
                    )
            for note_guid in selection.note_guids:
                if note_guid not in project.notes:
                    problems.append(
                        f"{where}: a selection refers to a note that is not there ({note_guid})"
                    )
            if selection.kind == "PlainTextSelection":
                length = len(source.text) if source.text is not None else None
                start, end = selection.start, selection.end
                if (
                    start is None
                    or end is None
                    or start < 0
                    or start > end
                    or (length is not None and end > length)
                ):
                    problems.append(
                        f"{where}: selection {start}–{end} is outside the text "
                        f"(0–{length if length is not None else '?'})"
                    )
        for note in source.note_guids:
            if note not in project.notes:
                problems.append(f"line {source.line}: {source.name!r} refers to a missing note")
    for code in project.codes.values():
        for note in code.note_guids:
            if note not in project.notes:
                problems.append(f"line {code.line}: code {code.name!r} refers to a missing note")
    for case in project.cases.values():
        for guid in case.source_guids:
            if guid not in project.sources:
                problems.append(f"case {case.name!r} refers to a source that is not there ({guid})")
    for element in root.iter(_Q + "VariableRef"):
        if element.get("targetGUID") not in project.variables:
            problems.append(f"line {element.sourceline}: a value refers to a missing variable")
    for element in root.iter():
        user = element.get("creatingUser")
        if user and user not in project.users:
            problems.append(
                f"line {element.sourceline}: creatingUser {user} is not among the users"
            )
