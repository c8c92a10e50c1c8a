"""REFI-QDA: a whole project (``.qdpx``); the codebook alone (``.qdc``) is in ``qdc``.

The interop rules it follows (what NVivo, ATLAS.ti, MAXQDA and QualCoder need) are in
:mod:`bot.review.exports.qda_xml`.
"""

from __future__ import annotations

import logging
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

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
from bot.review.exports.qda_xml import (
    CASE_VARIABLES,
    MEDIA,
    PROJECT_NS,
    SOURCE_VARIABLES,
    Case,
    exporter_guid,
    lf_text,
    media_extent,
    memo_line,
    memos_on,
    roles_of,
    source_stem,
    stable_guid,
    sub_element,
    variable_value,
)
from bot.review.exports.qdc import code_elements
from bot.review.search import Filters
from storage.models import Attachment, Coding, Memo, Reflection, User

logger = logging.getLogger(__name__)


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
        self.cases: dict[str, Case] = {}
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
        element = sub_element(
            parent,
            PROJECT_NS,
            "Coding",
            guid=guid or coding.guid,
            creatingUser=self.user(coding.created_by),
            creationDateTime=iso_utc(coding.created_at),
        )
        sub_element(element, PROJECT_NS, "CodeRef", targetGUID=coding.code.guid)

    async def add(self, pending: list[Reflection]) -> None:
        ids = [r.id for r in pending]
        codings = await codings_for(self.session, ids)
        # Memos are the researchers' (and admins') work: nobody else's export carries them.
        memos = await memos_on(self.session, ids) if self.viewer.can_code else {}
        roles = await roles_of(self.session, {r.person_id for r in pending})
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
        source = sub_element(
            self.sections["Sources"],
            ns,
            "TextSource",
            guid=guid,
            name=self.unique_name(stem),
            plainTextPath=f"internal://{guid}.txt",
            creationDateTime="" if hide else iso_utc(reflection.created_at),
        )
        description = [f"Prompt: {context.prompt_text}"] if context.prompt_text else []
        description.extend(memo_line(memo) for memo in memos)
        if description:
            sub_element(source, ns, "Description", text="\n\n".join(description))
        whole = [c for c in codings if c.start is None or c.end is None]
        for coding in codings:
            if coding in whole:
                start, end = 0, len(content)
            else:
                start, end = moved(coding.start or 0), moved(coding.end or 0)
            selection = sub_element(
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
            selection = sub_element(
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
            sub_element(selection, ns, "Description", text=memo.text)
            sub_element(selection, ns, "NoteRef", targetGUID=memo.guid)
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
                variable_value(source, self.variables[name], value)
        source_guids = [guid]
        media = [a for a in reflection.attachments if a.kind in MEDIA]
        for number, attachment in enumerate(media, start=1):
            media_stem = stem if number == 1 else f"{stem} · {number}"
            media_guid = self.media(attachment, media_stem, whole, hide)
            if media_guid:
                source_guids.append(media_guid)
        if label is not None:
            case_guid = stable_guid("case", f"{reflection.person_id}:{label}")
            case = self.cases.setdefault(case_guid, Case(case_guid, label))
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
        element = sub_element(
            self.sections["Sources"],
            PROJECT_NS,
            tag,
            guid=guid,
            name=self.unique_name(f"{stem}{suffix}"),
            path=f"internal://{guid}{suffix}",
            creationDateTime="" if hide else iso_utc(attachment.created_at),
        )
        sub_element(
            element, PROJECT_NS, "Description", text=f"Original file name: {attachment.filename}"
        )
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
            selection = sub_element(
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
        note = sub_element(self.sections["Notes"], PROJECT_NS, "Note", **attributes)
        if not as_file:
            sub_element(note, PROJECT_NS, "PlainTextContent", text=memo.text)

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
            code_elements(
                sub_element(self.sections["CodeBook"], ns, "Codes"),
                ns,
                nodes,
                self.code_names,
                by_code,
            )
        for node in flatten(nodes):
            for memo in by_code.get(node.code.id, []):
                self.note(memo, f"Memo on code {self.code_names[node.code.id]}"[:200], True)
        await self.users()
        declared = (CASE_VARIABLES if self.cases else []) + (SOURCE_VARIABLES if exported else [])
        for name in declared:
            sub_element(
                self.sections["Variables"],
                ns,
                "Variable",
                guid=self.variables[name],
                name=name,
                typeOfVariable="Text",
            )
        for case in self.cases.values():
            element = sub_element(
                self.sections["Cases"], ns, "Case", guid=case.guid, name=case.name
            )
            if case.partnerships:
                variable_value(
                    element, self.variables["partnership"], ", ".join(sorted(case.partnerships))
                )
            if case.roles:
                variable_value(element, self.variables["role"], ", ".join(sorted(case.roles)))
            for source_guid in dict.fromkeys(case.sources):
                sub_element(element, ns, "SourceRef", targetGUID=source_guid)
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
            sub_element(
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
            sub_element(
                parent,
                PROJECT_NS,
                "User",
                guid=stable_guid("user", user_id),
                name=names[user_id],
                id=str(user_id),
            )


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
