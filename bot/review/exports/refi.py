"""REFI-QDA exports: the codebook (``.qdc``) and a whole project (``.qdpx``).

Interop rules followed (QDA-XML 1.0, as NVivo, ATLAS.ti, MAXQDA and QualCoder read it):

- a ``.qdpx`` is a zip of ``project.qde`` and a lowercase ``sources/`` folder; text sources are
  ``sources/<guid>.txt`` (UTF-8), referred to as ``internal://<guid>.txt``;
- selection positions are Unicode code points, end exclusive (Python slicing);
- no empty container elements: ``<Users/>``, ``<Codes/>``, ``<Cases/>``, ``<Notes/>``… are left
  out when there is nothing to put in them;
- guids are stable: codes, codings and memos keep their stored uuid4, other things get a uuid5
  derived from their id, so exporting twice gives the same guids.
"""

from __future__ import annotations

import re
import shutil
import uuid
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.review.access import Viewer, author_label
from bot.review.coding import CodeNode, codebook
from bot.review.exports import (
    Progress,
    answer_text,
    codings_for,
    context_of,
    in_batches,
    iso_utc,
)
from bot.review.search import Filters
from storage.models import Attachment, Membership, Memo, Reflection, User

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
]
CASE_VARIABLES = ["partnership", "role"]
MEDIA = {"photo": "PictureSource", "voice": "AudioSource"}


def stable_guid(kind: str, key: object) -> str:
    return str(uuid.uuid5(_GUIDS, f"{kind}:{key}"))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(value: str) -> str:
    """``value`` without the control characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", value)


def _sub(parent: Any, ns: str, tag: str, text: str | None = None, **attrs: str) -> Any:
    element = etree.SubElement(
        parent, f"{{{ns}}}{tag}", {k: xml_safe(v) for k, v in attrs.items() if v}
    )
    if text is not None:
        element.text = xml_safe(text)
    return element


def _codes(parent: Any, ns: str, nodes: list[CodeNode], memos: dict[int, list[str]]) -> None:
    for node in nodes:
        code = node.code
        element = _sub(
            parent, ns, "Code", guid=code.guid, name=code.name, isCodable="true", color=code.color
        )
        if code.description:
            _sub(element, ns, "Description", text=code.description)
        if ns == PROJECT_NS:
            for note_guid in memos.get(code.id, []):
                _sub(element, ns, "NoteRef", targetGUID=note_guid)
        _codes(element, ns, node.children, memos)


async def codebook_xml(session: AsyncSession) -> bytes:
    """The codebook as a REFI-QDA ``.qdc`` document."""
    root = etree.Element(
        f"{{{CODEBOOK_NS}}}CodeBook",
        nsmap={None: CODEBOOK_NS},  # type: ignore[dict-item]
        origin="carbot",
    )
    codes = _sub(root, CODEBOOK_NS, "Codes")
    nodes = await codebook(session)
    _codes(codes, CODEBOOK_NS, nodes, {})
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
    ns = PROJECT_NS
    now = iso_utc(datetime.now(UTC))
    exporter_guid = stable_guid("user", viewer.user_id if viewer.user_id is not None else "cli")
    root = etree.Element(
        f"{{{ns}}}Project",
        nsmap={None: ns},  # type: ignore[dict-item]
        name="carbot reflections",
        origin="carbot",
        creatingUserGUID=exporter_guid,
        creationDateTime=now,
    )
    sections = {
        name: etree.Element(f"{{{ns}}}{name}")
        for name in ("Users", "CodeBook", "Variables", "Cases", "Sources", "Notes")
    }
    user_ids: set[int] = set()
    cases: dict[str, _Case] = {}
    variables = {name: stable_guid("variable", name) for name in CASE_VARIABLES + SOURCE_VARIABLES}
    memo_notes: list[Memo] = []

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        async def add_sources(pending: list[Reflection]) -> None:
            ids = [r.id for r in pending]
            codings = await codings_for(session, ids)
            memos = (
                (
                    await session.execute(
                        select(Memo).where(Memo.reflection_id.in_(ids)).order_by(Memo.id)
                    )
                )
                .scalars()
                .all()
                if ids
                else []
            )
            by_reflection: dict[int, list[Memo]] = {}
            for memo in memos:
                by_reflection.setdefault(memo.reflection_id or 0, []).append(memo)
            roles = await _roles(session, {r.person_id for r in pending})
            for reflection in pending:
                guid = stable_guid("reflection", reflection.id)
                content = answer_text(reflection)
                archive.writestr(f"sources/{guid}.txt", content.encode("utf-8"))
                context = context_of(viewer, reflection)
                label = author_label(viewer, reflection, reflection.person)
                source = _sub(
                    sections["Sources"],
                    ns,
                    "TextSource",
                    guid=guid,
                    name=f"#{reflection.id} {label or 'anonymous'} {context.created_local}",
                    plainTextPath=f"internal://{guid}.txt",
                    creationDateTime=iso_utc(reflection.created_at),
                )
                if context.prompt_text:
                    _sub(source, ns, "Description", text=context.prompt_text)
                own = codings.get(reflection.id, [])
                for coding in own:
                    if coding.start is None or coding.end is None:
                        continue
                    selection = _sub(
                        source,
                        ns,
                        "PlainTextSelection",
                        guid=stable_guid("selection", coding.guid),
                        name=content[coding.start : coding.end][:60],
                        startPosition=str(coding.start),
                        endPosition=str(coding.end),
                        creatingUser=_user(coding.created_by, user_ids),
                        creationDateTime=iso_utc(coding.created_at),
                    )
                    _coding(selection, coding, user_ids)
                for coding in own:
                    if coding.start is None:
                        _coding(source, coding, user_ids)
                for memo in by_reflection.get(reflection.id, []):
                    _sub(source, ns, "NoteRef", targetGUID=memo.guid)
                    memo_notes.append(memo)
                values = [
                    context.project,
                    context.cycle,
                    context.phase,
                    context.research_question,
                    context.prompt_key,
                    context.answer_type,
                    context.audience,
                    context.channel,
                ]
                for name, value in zip(SOURCE_VARIABLES, values, strict=True):
                    if value:
                        _variable_value(source, variables[name], value)
                source_guids = [guid]
                for attachment in reflection.attachments:
                    media = _media_source(sections["Sources"], archive, attachment, data_dir)
                    if media:
                        source_guids.append(media)
                if label is not None:
                    case_guid = stable_guid("case", f"{reflection.person_id}:{label}")
                    case = cases.setdefault(case_guid, _Case(case_guid, label))
                    if context.partnership:
                        case.partnerships.add(context.partnership)
                    case.roles |= roles.get(reflection.person_id, set())
                    case.sources.extend(source_guids)

        exported = await in_batches(session, viewer, filters, add_sources, progress, batch)

        code_memos = (
            (await session.execute(select(Memo).where(Memo.code_id.is_not(None)).order_by(Memo.id)))
            .scalars()
            .all()
        )
        memo_refs: dict[int, list[str]] = {}
        for memo in code_memos:
            memo_refs.setdefault(memo.code_id or 0, []).append(memo.guid)
            memo_notes.append(memo)
        nodes = await codebook(session)
        if nodes:
            _codes(_sub(sections["CodeBook"], ns, "Codes"), ns, nodes, memo_refs)
        for memo in memo_notes:
            note = _sub(
                sections["Notes"],
                ns,
                "Note",
                guid=memo.guid,
                name=memo.text[:60],
                creatingUser=_user(memo.created_by, user_ids),
                creationDateTime=iso_utc(memo.created_at),
            )
            _sub(note, ns, "PlainTextContent", text=memo.text)
        await _users(session, sections["Users"], user_ids, viewer, exporter_guid)
        declared = (CASE_VARIABLES if cases else []) + (SOURCE_VARIABLES if exported else [])
        for name in declared:
            _sub(
                sections["Variables"],
                ns,
                "Variable",
                guid=variables[name],
                name=name,
                typeOfVariable="Text",
            )
        for case in cases.values():
            element = _sub(sections["Cases"], ns, "Case", guid=case.guid, name=case.name)
            if case.partnerships:
                _variable_value(
                    element, variables["partnership"], ", ".join(sorted(case.partnerships))
                )
            if case.roles:
                _variable_value(element, variables["role"], ", ".join(sorted(case.roles)))
            for source_guid in dict.fromkeys(case.sources):
                _sub(element, ns, "SourceRef", targetGUID=source_guid)
        for section in sections.values():
            if len(section):
                root.append(section)
        archive.writestr(
            "project.qde",
            etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True),
        )
    return exported


def _user(user_id: int | None, seen: set[int]) -> str:
    if user_id is None:
        return ""
    seen.add(user_id)
    return stable_guid("user", user_id)


def _coding(parent: Any, coding: Any, user_ids: set[int]) -> None:
    element = _sub(
        parent,
        PROJECT_NS,
        "Coding",
        guid=coding.guid,
        creatingUser=_user(coding.created_by, user_ids),
        creationDateTime=iso_utc(coding.created_at),
    )
    _sub(element, PROJECT_NS, "CodeRef", targetGUID=coding.code.guid)


def _media_source(
    sources: Any, archive: zipfile.ZipFile, attachment: Attachment, data_dir: Path
) -> str | None:
    """Photos and voice notes go in as picture and audio sources when their file is at hand."""
    tag = MEDIA.get(attachment.kind)
    path = data_dir / attachment.path
    if tag is None or not path.is_file():
        return None
    guid = stable_guid("attachment", attachment.id)
    suffix = Path(attachment.filename).suffix.lower() or ".bin"
    with path.open("rb") as source_file, archive.open(f"sources/{guid}{suffix}", "w") as target:
        shutil.copyfileobj(source_file, target)
    _sub(
        sources,
        PROJECT_NS,
        tag,
        guid=guid,
        name=attachment.filename,
        path=f"internal://{guid}{suffix}",
        creationDateTime=iso_utc(attachment.created_at),
    )
    return guid


async def _users(
    session: AsyncSession, parent: Any, user_ids: set[int], viewer: Viewer, exporter_guid: str
) -> None:
    names: dict[int, str] = {}
    if user_ids:
        rows = await session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
        names = dict(rows.tuples().all())
    if viewer.user_id is None:
        _sub(parent, PROJECT_NS, "User", guid=exporter_guid, name="carbot command line", id="cli")
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
