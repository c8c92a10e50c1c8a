"""REFI-QDA exports: the codebook (``.qdc``) and a whole project (``.qdpx``).

Interop rules followed (QDA-XML 1.0, as NVivo, ATLAS.ti, MAXQDA and QualCoder read it):

- a ``.qdpx`` is a zip of ``project.qde`` and a lowercase ``sources/`` folder; text sources are
  ``sources/<guid>.txt`` (UTF-8), referred to as ``internal://<guid>.txt``;
- line breaks in source text are written as LF only: importers read text files with universal
  newlines, so a CR/LF pair would count as one character there and two here; positions are
  moved to match;
- selection positions are Unicode code points, end exclusive (Python slicing);
- every source has a name no other source has (``R123 · P-001 · 2027-03-04 · Family hub``,
  media ``… · Family hub.png``): QualCoder aborts an import at the first repeated name, and
  uploads often repeat ``photo.png``. The name a participant gave a file is in its description;
- every code has a name no other code has (``Barriers › Other``; see
  :func:`~bot.review.exports.export_code_names`);
- a coding of a whole reflection is a selection of its whole text (some importers drop a bare
  ``<Coding>`` on a source), and of its whole photo or voice note when the size or length of
  the file can be read;
- a memo on a reflection is a note referred to from a selection of the whole reflection, with
  its text in that selection's and the source's description; a memo on a code is in the code's
  description and is a project note (a journal entry in QualCoder);
- no empty container elements: ``<Users/>``, ``<Codes/>``, ``<Cases/>``, ``<Notes/>``… are left
  out when there is nothing to put in them;
- guids are stable: codes, codings and memos keep their stored uuid4, other things get a uuid5
  derived from their id, so exporting twice gives the same guids.
"""

from __future__ import annotations

import bisect
import logging
import re
import shutil
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.review.access import Viewer, author_label
from bot.review.coding import CodeNode, codebook, flatten
from bot.review.exports import (
    Progress,
    answer_text,
    codings_for,
    context_of,
    export_code_names,
    in_batches,
    iso_utc,
)
from bot.review.search import Filters
from storage.models import Attachment, Code, Coding, Membership, Memo, Reflection, User

logger = logging.getLogger(__name__)

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
_GUIDS = uuid.UUID("6f1c1c52-4b53-4c3e-9d7a-2f0e8f3f6b11")

SOURCE_VARIABLES = [
    "project",
    "cycle",
    "phase",
    "research question",
    "prompt",
    "answer type",
    "audience",
    "channel",
    "participant",
]
CASE_VARIABLES = ["partnership", "role"]
MEDIA = {"photo": "PictureSource", "voice": "AudioSource"}
NAME_IN_CARBOT = "Name in carbot: "


def stable_guid(kind: str, key: object) -> str:
    return str(uuid.uuid5(_GUIDS, f"{kind}:{key}"))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(value: str) -> str:
    """``value`` without the control characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", value)


_CRLF_OR_CR = re.compile(r"\r\n?")


def lf_text(text: str) -> tuple[str, Callable[[int], int]]:
    """``text`` with CR/LF pairs and lone CRs as LF, and a map from old positions to new ones.

    Each dropped CR moves the positions after it one to the left, so a selection keeps the same
    characters: ``new[move(a):move(b)]`` is ``old[a:b]`` with its line breaks as LF.
    """
    dropped = [match.start() for match in _CRLF_OR_CR.finditer(text) if match.group() == "\r\n"]
    if not dropped and "\r" not in text:
        return text, lambda position: position
    return _CRLF_OR_CR.sub(
        "\n", text
    ), lambda position: position - bisect.bisect_left(dropped, position)


_NOT_IN_FILE_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def file_safe(name: str, limit: int = 150) -> str:
    """``name`` usable as a file name on Windows, macOS and Linux (importers save sources under
    their names)."""
    cleaned = _NOT_IN_FILE_NAMES.sub("-", name).strip(" .")
    return cleaned[:limit].rstrip(" .") or "source"


def source_stem(reflection: Reflection, label: str | None, viewer: Viewer) -> str:
    """``R123 · P-001 · 2027-03-04 · Family hub``: unique, and sorts by reflection; a reflection
    shown to a lead as anonymous is ``anonymous · Family hub · <handle>`` (no id, no day)."""
    project = reflection.project.name if reflection.project else "no project"
    if viewer.masks(reflection):
        return file_safe(f"anonymous · {project} · {viewer.handle(reflection.id)}")
    day = reflection.created_at.astimezone(ZoneInfo(viewer.timezone)).strftime("%Y-%m-%d")
    return file_safe(f"R{reflection.id} · {label or 'anonymous'} · {day} · {project}")


def _sub(parent: Any, ns: str, tag: str, text: str | None = None, **attrs: str) -> Any:
    element = etree.SubElement(
        parent, f"{{{ns}}}{tag}", {k: xml_safe(v) for k, v in attrs.items() if v}
    )
    if text is not None:
        element.text = xml_safe(text)
    return element


def code_description(code: Code, export_name: str, memos: Iterable[Memo] = ()) -> str:
    """The code's description, then its own name when the export had to change it, then memos."""
    parts = [code.description] if code.description else []
    if export_name != code.name:
        parts.append(f"{NAME_IN_CARBOT}{code.name}")
    parts.extend(f"Memo: {memo.text}" for memo in memos)
    return "\n\n".join(parts)


def _codes(
    parent: Any,
    ns: str,
    nodes: list[CodeNode],
    names: dict[int, str],
    memos: dict[int, list[Memo]],
) -> None:
    for node in nodes:
        code = node.code
        element = _sub(
            parent,
            ns,
            "Code",
            guid=code.guid,
            name=names[code.id],
            isCodable="true",
            color=code.color,
        )
        description = code_description(code, names[code.id], memos.get(code.id, []))
        if description:
            _sub(element, ns, "Description", text=description)
        if ns == PROJECT_NS:
            for memo in memos.get(code.id, []):
                _sub(element, ns, "NoteRef", targetGUID=memo.guid)
        _codes(element, ns, node.children, names, memos)


async def codebook_xml(session: AsyncSession) -> bytes:
    """The codebook as a REFI-QDA ``.qdc`` document."""
    root = etree.Element(
        f"{{{CODEBOOK_NS}}}CodeBook",
        nsmap={None: CODEBOOK_NS},  # type: ignore[dict-item]
        origin="carbot",
    )
    codes = _sub(root, CODEBOOK_NS, "Codes")
    nodes = await codebook(session)
    _codes(codes, CODEBOOK_NS, nodes, export_code_names(nodes), {})
    if not nodes:
        # The schema needs at least one code; an empty codebook still gives a valid file.
        _sub(
            codes,
            CODEBOOK_NS,
            "Code",
            guid=stable_guid("code", "uncoded"),
            name="(no codes yet)",
            isCodable="false",
        )
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _variable_value(parent: Any, variable_guid: str, value: str) -> None:
    element = _sub(parent, PROJECT_NS, "VariableValue")
    _sub(element, PROJECT_NS, "VariableRef", targetGUID=variable_guid)
    _sub(element, PROJECT_NS, "TextValue", text=value)


class _Case:
    def __init__(self, guid: str, name: str) -> None:
        self.guid = guid
        self.name = name
        self.partnerships: set[str] = set()
        self.roles: set[str] = set()
        self.sources: list[str] = []


async def _roles(session: AsyncSession, person_ids: Iterable[int]) -> dict[int, set[str]]:
    rows = await session.execute(
        select(Membership.person_id, Membership.role).where(Membership.person_id.in_(person_ids))
    )
    found: dict[int, set[str]] = {}
    for person_id, role in rows:
        found.setdefault(person_id, set()).add(role)
    return found


async def _memos_on(session: AsyncSession, reflection_ids: list[int]) -> dict[int, list[Memo]]:
    if not reflection_ids:
        return {}
    memos = (
        (
            await session.execute(
                select(Memo).where(Memo.reflection_id.in_(reflection_ids)).order_by(Memo.id)
            )
        )
        .scalars()
        .all()
    )
    found: dict[int, list[Memo]] = {}
    for memo in memos:
        found.setdefault(memo.reflection_id or 0, []).append(memo)
    return found


def _memo_line(memo: Memo) -> str:
    return f"Memo ({memo.created_at:%Y-%m-%d}): {memo.text}"


@dataclass
class _Writer:
    """One ``.qdpx`` being written: the zip, the XML sections, and what later parts refer to."""

    session: AsyncSession
    viewer: Viewer
    archive: zipfile.ZipFile
    data_dir: Path
    code_names: dict[int, str]

    def __post_init__(self) -> None:
        self.sections = {
            name: etree.Element(f"{{{PROJECT_NS}}}{name}")
            for name in ("Users", "CodeBook", "Variables", "Cases", "Sources", "Notes")
        }
        self.user_ids: set[int] = set()
        self.cases: dict[str, _Case] = {}
        self.variables = {
            name: stable_guid("variable", name) for name in CASE_VARIABLES + SOURCE_VARIABLES
        }
        self.source_names: set[str] = set()

    def user(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        self.user_ids.add(user_id)
        return stable_guid("user", user_id)

    def unique_name(self, name: str) -> str:
        candidate, number = name, 1
        while candidate.casefold() in self.source_names:
            number += 1
            stem, dot, suffix = name.rpartition(".")
            candidate = f"{stem} ({number}).{suffix}" if dot else f"{name} ({number})"
        self.source_names.add(candidate.casefold())
        return candidate

    def coding(self, parent: Any, coding: Coding, guid: str | None = None) -> None:
        element = _sub(
            parent,
            PROJECT_NS,
            "Coding",
            guid=guid or coding.guid,
            creatingUser=self.user(coding.created_by),
            creationDateTime=iso_utc(coding.created_at),
        )
        _sub(element, PROJECT_NS, "CodeRef", targetGUID=coding.code.guid)

    async def add(self, pending: list[Reflection]) -> None:
        ids = [r.id for r in pending]
        codings = await codings_for(self.session, ids)
        # Memos are the researchers' (and admins') work: nobody else's export carries them.
        memos = await _memos_on(self.session, ids) if self.viewer.can_code else {}
        roles = await _roles(self.session, {r.person_id for r in pending})
        for reflection in pending:
            self.reflection(
                reflection,
                codings.get(reflection.id, []),
                memos.get(reflection.id, []),
                roles.get(reflection.person_id, set()),
            )

    def reflection(
        self, reflection: Reflection, codings: list[Coding], memos: list[Memo], roles: set[str]
    ) -> None:
        ns = PROJECT_NS
        hide = self.viewer.masks(reflection)
        guid = stable_guid(
            "reflection", self.viewer.handle(reflection.id) if hide else reflection.id
        )
        content, moved = lf_text(answer_text(reflection))
        self.archive.writestr(f"sources/{guid}.txt", content.encode("utf-8"))
        context = context_of(self.viewer, reflection)
        label = author_label(self.viewer, reflection, reflection.person)
        stem = source_stem(reflection, label, self.viewer)
        source = _sub(
            self.sections["Sources"],
            ns,
            "TextSource",
            guid=guid,
            name=self.unique_name(stem),
            plainTextPath=f"internal://{guid}.txt",
            creationDateTime="" if hide else iso_utc(reflection.created_at),
        )
        description = [f"Prompt: {context.prompt_text}"] if context.prompt_text else []
        description.extend(_memo_line(memo) for memo in memos)
        if description:
            _sub(source, ns, "Description", text="\n\n".join(description))
        whole = [c for c in codings if c.start is None or c.end is None]
        for coding in codings:
            if coding in whole:
                start, end = 0, len(content)
            else:
                start, end = moved(coding.start or 0), moved(coding.end or 0)
            selection = _sub(
                source,
                ns,
                "PlainTextSelection",
                guid=stable_guid("selection", coding.guid),
                name=content[start:end][:60],
                startPosition=str(start),
                endPosition=str(end),
                creatingUser=self.user(coding.created_by),
                creationDateTime="" if hide else iso_utc(coding.created_at),
            )
            self.coding(selection, coding)
        for memo in memos:
            selection = _sub(
                source,
                ns,
                "PlainTextSelection",
                guid=stable_guid("memo-selection", memo.guid),
                name="Memo",
                startPosition="0",
                endPosition=str(len(content)),
                creatingUser=self.user(memo.created_by),
                creationDateTime=iso_utc(memo.created_at),
            )
            _sub(selection, ns, "Description", text=memo.text)
            _sub(selection, ns, "NoteRef", targetGUID=memo.guid)
            self.note(memo, name=f"Memo on {stem}"[:200])
        values = [
            context.project,
            context.cycle,
            context.phase,
            context.research_question,
            context.prompt_key,
            context.answer_type,
            context.audience,
            context.channel,
            label or "",  # QualCoder does not link cases to sources; this variable does
        ]
        for name, value in zip(SOURCE_VARIABLES, values, strict=True):
            if value:
                _variable_value(source, self.variables[name], value)
        source_guids = [guid]
        media = [a for a in reflection.attachments if a.kind in MEDIA]
        for number, attachment in enumerate(media, start=1):
            media_stem = stem if number == 1 else f"{stem} · {number}"
            media_guid = self.media(attachment, media_stem, whole, hide)
            if media_guid:
                source_guids.append(media_guid)
        if label is not None:
            case_guid = stable_guid("case", f"{reflection.person_id}:{label}")
            case = self.cases.setdefault(case_guid, _Case(case_guid, label))
            if context.partnership:
                case.partnerships.add(context.partnership)
            case.roles |= roles
            case.sources.extend(source_guids)

    def media(
        self, attachment: Attachment, stem: str, whole: list[Coding], hide: bool = False
    ) -> str | None:
        """A photo or voice note as a picture or audio source, when its file is at hand; the
        reflection's whole-reflection codings cover the whole picture or clip."""
        tag = MEDIA[attachment.kind]
        path = self.data_dir / attachment.path
        if not path.is_file():
            logger.warning(
                "evidence file missing from export",
                extra={"action": "export_qdpx", "attachment": attachment.id},
            )
            return None
        guid = stable_guid("attachment", stem if hide else attachment.id)
        suffix = Path(attachment.filename).suffix.lower() or ".bin"
        with (
            path.open("rb") as source_file,
            self.archive.open(f"sources/{guid}{suffix}", "w") as target,
        ):
            shutil.copyfileobj(source_file, target)
        element = _sub(
            self.sections["Sources"],
            PROJECT_NS,
            tag,
            guid=guid,
            name=self.unique_name(f"{stem}{suffix}"),
            path=f"internal://{guid}{suffix}",
            creationDateTime="" if hide else iso_utc(attachment.created_at),
        )
        _sub(element, PROJECT_NS, "Description", text=f"Original file name: {attachment.filename}")
        extent = media_extent(attachment.kind, path)
        for coding in whole if extent else []:
            assert extent is not None
            if tag == "PictureSource":
                area = {"firstX": "0", "firstY": "0", "secondX": str(extent[0])}
                area["secondY"] = str(extent[1])
                kind = "PictureSelection"
            else:
                area = {"begin": "0", "end": str(extent[0])}
                kind = "AudioSelection"
            selection = _sub(
                element,
                PROJECT_NS,
                kind,
                guid=stable_guid("media-selection", f"{coding.guid}:{attachment.id}"),
                name=attachment.filename,
                creatingUser=self.user(coding.created_by),
                creationDateTime=iso_utc(coding.created_at),
                **area,
            )
            self.coding(selection, coding, stable_guid("media-coding", f"{coding.guid}:{guid}"))
        return guid

    def note(self, memo: Memo, name: str, as_file: bool = False) -> None:
        """A memo as a project note: its text inline, or (``as_file``) in ``sources/`` as
        QualCoder needs for a journal entry."""
        attributes = {
            "guid": memo.guid,
            "name": name,
            "creatingUser": self.user(memo.created_by),
            "creationDateTime": iso_utc(memo.created_at),
        }
        if as_file:
            attributes["plainTextPath"] = f"internal://{memo.guid}.txt"
            self.archive.writestr(f"sources/{memo.guid}.txt", memo.text.encode("utf-8"))
        note = _sub(self.sections["Notes"], PROJECT_NS, "Note", **attributes)
        if not as_file:
            _sub(note, PROJECT_NS, "PlainTextContent", text=memo.text)

    async def finish(self, root: Any, nodes: list[CodeNode], exported: int) -> None:
        ns = PROJECT_NS
        code_memos = (
            (await self.session.execute(select(Memo).where(Memo.code_id.is_not(None)))).scalars()
        ).all()
        if not self.viewer.can_code:
            code_memos = []
        by_code: dict[int, list[Memo]] = {}
        for memo in sorted(code_memos, key=lambda m: m.id):
            by_code.setdefault(memo.code_id or 0, []).append(memo)
        if nodes:
            _codes(
                _sub(self.sections["CodeBook"], ns, "Codes"), ns, nodes, self.code_names, by_code
            )
        for node in flatten(nodes):
            for memo in by_code.get(node.code.id, []):
                self.note(memo, f"Memo on code {self.code_names[node.code.id]}"[:200], True)
        await self.users()
        declared = (CASE_VARIABLES if self.cases else []) + (SOURCE_VARIABLES if exported else [])
        for name in declared:
            _sub(
                self.sections["Variables"],
                ns,
                "Variable",
                guid=self.variables[name],
                name=name,
                typeOfVariable="Text",
            )
        for case in self.cases.values():
            element = _sub(self.sections["Cases"], ns, "Case", guid=case.guid, name=case.name)
            if case.partnerships:
                _variable_value(
                    element, self.variables["partnership"], ", ".join(sorted(case.partnerships))
                )
            if case.roles:
                _variable_value(element, self.variables["role"], ", ".join(sorted(case.roles)))
            for source_guid in dict.fromkeys(case.sources):
                _sub(element, ns, "SourceRef", targetGUID=source_guid)
        for section in self.sections.values():
            if len(section):
                root.append(section)

    async def users(self) -> None:
        parent, viewer = self.sections["Users"], self.viewer
        names: dict[int, str] = {}
        if self.user_ids:
            rows = await self.session.execute(
                select(User.id, User.email).where(User.id.in_(self.user_ids))
            )
            names = {user_id: email for user_id, email in rows}
        if viewer.user_id is None:
            _sub(
                parent,
                PROJECT_NS,
                "User",
                guid=exporter_guid(viewer),
                name="carbot command line",
                id="cli",
            )
        else:
            names.setdefault(viewer.user_id, viewer.email)
        for user_id in sorted(names):
            _sub(
                parent,
                PROJECT_NS,
                "User",
                guid=stable_guid("user", user_id),
                name=names[user_id],
                id=str(user_id),
            )


def exporter_guid(viewer: Viewer) -> str:
    return stable_guid("user", viewer.user_id if viewer.user_id is not None else "cli")


def media_extent(kind: str, path: Path) -> tuple[int, ...] | None:
    """A photo's (width, height) in pixels or a voice note's (length in milliseconds,), read from
    the file's header; None when the file cannot be read as that kind."""
    try:
        if kind == "photo":
            from PIL import Image

            with Image.open(path) as image:
                width, height = image.size
            return (width, height)
        import mutagen

        audio = mutagen.File(path)  # type: ignore[attr-defined]
        if audio is None or not getattr(audio.info, "length", 0):
            return None
        return (round(audio.info.length * 1000),)
    except Exception:  # any unreadable file just gets no media selection
        logger.info("evidence size unreadable", extra={"action": "export_qdpx", "kind": kind})
        return None


async def write_qdpx(
    session: AsyncSession,
    viewer: Viewer,
    filters: Filters,
    out: IO[bytes],
    data_dir: Path,
    progress: Progress | None = None,
    batch: int = 500,
) -> int:
    """Write the matching reflections as a REFI-QDA project to ``out``; returns how many."""
    root = etree.Element(
        f"{{{PROJECT_NS}}}Project",
        nsmap={None: PROJECT_NS},  # type: ignore[dict-item]
        name="carbot reflections",
        origin="carbot",
        creatingUserGUID=exporter_guid(viewer),
        creationDateTime=iso_utc(datetime.now(UTC)),
    )
    nodes = await codebook(session)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        writer = _Writer(session, viewer, archive, data_dir, export_code_names(nodes))
        exported = await in_batches(session, viewer, filters, writer.add, progress, batch)
        await writer.finish(root, nodes, exported)
        archive.writestr(
            "project.qde",
            etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True),
        )
    return exported
