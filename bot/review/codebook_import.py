"""Importing a codebook: a REFI-QDA ``.qdc`` (NVivo, ATLAS.ti, MAXQDA, QualCoder), the codebook
of a ``.qdpx`` project, or Taguette's codebook CSV, merged into carbot's by name path.

Researchers usually start from a codebook they already have. Merging by name path means a code
``Barriers/Time`` in the file is the same code as ``Time`` under ``Barriers`` here: it is added
when missing, given the file's description when it has none, and otherwise left as it is —
nothing is renamed, moved or deleted, and no coding changes. A file exported by carbot reads
back as the codebook it came from (``Barriers › Other`` with ``Name in carbot: Other`` is
``Other`` under ``Barriers``).

The whole file is read and checked before anything is written: a malformed file gets an error
naming its line, and changes nothing.
"""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.errors import CodebookError
from bot.review.access import Viewer
from bot.review.coding import COLOUR, CodeNode, add_code, codebook
from bot.review.exports import PATH_SEPARATOR
from bot.review.exports.qda_xml import CODEBOOK_NS, NAME_IN_CARBOT, PROJECT_NS, stable_guid
from storage.models import Code

MAX_CODEBOOK_BYTES = 5 * 1024 * 1024
MAX_NAME = 200
PLACEHOLDER_GUID = stable_guid("code", "uncoded")  # carbot's "(no codes yet)" in an empty .qdc


@dataclass(frozen=True)
class ImportedCode:
    path: tuple[str, ...]
    description: str
    color: str
    guid: str
    line: int


@dataclass
class MergePlan:
    """What importing a file does (or, in a dry run, would do)."""

    added: list[ImportedCode] = field(default_factory=list)
    described: list[tuple[Code, ImportedCode]] = field(default_factory=list)
    unchanged: list[ImportedCode] = field(default_factory=list)

    def summary(self) -> list[str]:
        lines = [
            f"{len(self.added)} code(s) to add, {len(self.described)} description(s) to fill in, "
            f"{len(self.unchanged)} already in the codebook."
        ]
        lines += [f"  add   {' / '.join(c.path)}" for c in self.added]
        lines += [f"  describe {' / '.join(i.path)}" for _, i in self.described]
        return lines


def read_codebook(filename: str, data: bytes) -> list[ImportedCode]:
    """The codes in a codebook file, parents before children; CodebookError when malformed."""
    if len(data) > MAX_CODEBOOK_BYTES:
        raise CodebookError(
            f"{filename} is {len(data) / 1024 / 1024:.1f} MB; a codebook file may be at most "
            f"{MAX_CODEBOOK_BYTES // 1024 // 1024} MB."
        )
    lowered = filename.lower()
    if lowered.endswith(".qdpx") or data.startswith(b"PK\x03\x04"):
        return _from_qdpx(filename, data)
    if lowered.endswith(".csv"):
        return _from_csv(filename, data)
    if lowered.endswith((".qdc", ".xml")) or data.lstrip().startswith(b"<"):
        return _from_xml(filename, data, CODEBOOK_NS)
    raise CodebookError(
        f"{filename}: choose a REFI-QDA codebook (.qdc), a REFI-QDA project (.qdpx) or a "
        "Taguette codebook (.csv)."
    )


def _parse(filename: str, data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        line = error.position[0] if error.position else error.lineno
        raise CodebookError(
            f"{filename}, line {line}: not well-formed XML ({error.msg})."
        ) from error


def _from_qdpx(filename: str, data: bytes) -> list[ImportedCode]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("project.qde")
            if info.file_size > 20 * MAX_CODEBOOK_BYTES:
                raise CodebookError(f"{filename}: its project.qde is too large to read.")
            document = archive.read(info)
    except (zipfile.BadZipFile, KeyError) as error:
        raise CodebookError(
            f"{filename}: not a REFI-QDA project (no project.qde inside)."
        ) from error
    return _from_xml(f"{filename} (project.qde)", document, PROJECT_NS)


def _from_xml(filename: str, data: bytes, ns: str) -> list[ImportedCode]:
    root = _parse(filename, data)
    q = f"{{{ns}}}"
    if ns == CODEBOOK_NS and root.tag != q + "CodeBook":
        raise CodebookError(
            f"{filename}, line {root.sourceline}: not a REFI-QDA codebook "
            f'(expected <CodeBook xmlns="{CODEBOOK_NS}">).'
        )
    if ns == PROJECT_NS and root.tag != q + "Project":
        raise CodebookError(f"{filename}, line {root.sourceline}: not a REFI-QDA project.")
    from_carbot = root.get("origin") == "carbot"
    codes_element = (
        root.find(f"{q}Codes") if ns == CODEBOOK_NS else root.find(f"{q}CodeBook/{q}Codes")
    )
    found: list[ImportedCode] = []

    def walk(parent: Any, path: tuple[str, ...]) -> None:
        for element in parent.findall(q + "Code"):
            line = element.sourceline or 0
            if element.get("guid") == PLACEHOLDER_GUID and from_carbot:
                continue
            name = " ".join((element.get("name") or "").split())
            description_element = element.find(q + "Description")
            description = (
                (description_element.text or "") if description_element is not None else ""
            )
            if from_carbot:
                name, description = _carbot_name(name, description, path)
            if not name:
                raise CodebookError(f"{filename}, line {line}: a code has no name.")
            if len(name) > MAX_NAME:
                raise CodebookError(
                    f"{filename}, line {line}: the code name {name[:40]!r}… is longer than "
                    f"{MAX_NAME} characters."
                )
            color = (element.get("color") or "").lower()
            code = ImportedCode(
                (*path, name),
                description.strip(),
                color if COLOUR.match(color) else "",
                element.get("guid") or "",
                line,
            )
            found.append(code)
            walk(element, code.path)

    if codes_element is not None:
        walk(codes_element, ())
    return _unique(filename, found)


def _carbot_name(name: str, description: str, path: tuple[str, ...]) -> tuple[str, str]:
    """A code exported by carbot, back to its own name: ``Barriers › Other`` → ``Other``; the
    ``Name in carbot:`` and ``Memo:`` paragraphs carbot appended leave the description."""
    paragraphs = description.split("\n\n")
    kept: list[str] = []
    for paragraph in paragraphs:
        if paragraph.startswith(NAME_IN_CARBOT):
            name = paragraph.removeprefix(NAME_IN_CARBOT).strip()
        elif not paragraph.startswith("Memo: "):
            kept.append(paragraph)
    prefix = PATH_SEPARATOR.join(path) + PATH_SEPARATOR
    if path and name.startswith(prefix):
        name = name.removeprefix(prefix)
    return name, "\n\n".join(kept)


def _from_csv(filename: str, data: bytes) -> list[ImportedCode]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        raise CodebookError(
            f"{filename}, line {line}, column {column}: not UTF-8 text (save the CSV as UTF-8)."
        ) from error
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except StopIteration:
        raise CodebookError(f"{filename}: the file is empty.") from None
    if "tag" not in header:
        raise CodebookError(
            f"{filename}, line 1: a Taguette codebook has a 'tag' column "
            "(and usually 'description'); this header has none."
        )
    tag, description = (
        header.index("tag"),
        header.index("description") if "description" in header else None,
    )
    found: list[ImportedCode] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) <= tag or not row[tag].strip():
                raise CodebookError(f"{filename}, line {line}: this row has no tag name.")
            name = " ".join(row[tag].split())
            if len(name) > MAX_NAME:
                raise CodebookError(
                    f"{filename}, line {line}: the tag {name[:40]!r}… is longer than {MAX_NAME} "
                    "characters."
                )
            words = (
                row[description].strip()
                if description is not None and len(row) > description
                else ""
            )
            found.append(ImportedCode((name,), words, "", "", line))
    except csv.Error as error:
        raise CodebookError(f"{filename}, line {reader.line_num}: {error}.") from error
    return _unique(filename, found)


def _unique(filename: str, codes: list[ImportedCode]) -> list[ImportedCode]:
    seen: dict[tuple[str, ...], int] = {}
    for code in codes:
        if code.path in seen:
            raise CodebookError(
                f"{filename}, line {code.line}: {' / '.join(code.path)!r} is in the file twice "
                f"(also line {seen[code.path]})."
            )
        seen[code.path] = code.line
    return codes


def _paths(nodes: list[CodeNode], parent: tuple[str, ...] = ()) -> dict[tuple[str, ...], Code]:
    found: dict[tuple[str, ...], Code] = {}
    for node in nodes:
        path = (*parent, node.code.name)
        found[path] = node.code
        found.update(_paths(node.children, path))
    return found


async def plan_merge(session: AsyncSession, codes: list[ImportedCode]) -> MergePlan:
    existing = _paths(await codebook(session))
    plan = MergePlan()
    for code in codes:
        here = existing.get(code.path)
        if here is None:
            plan.added.append(code)
        elif code.description and not here.description:
            plan.described.append((here, code))
        else:
            plan.unchanged.append(code)
    return plan


async def apply_merge(session: AsyncSession, viewer: Viewer, plan: MergePlan) -> None:
    """Carry out ``plan`` in the caller's transaction."""
    existing = _paths(await codebook(session))
    used = set((await session.execute(select(Code.guid))).scalars())
    for code in plan.added:
        parent = existing.get(code.path[:-1]) if len(code.path) > 1 else None
        added = await add_code(
            session,
            viewer,
            code.path[-1],
            parent_id=parent.id if parent else None,
            color=code.color or "#1f77b4",
            description=code.description,
        )
        if _is_uuid(code.guid) and code.guid.lower() not in used:
            # Keep the tool's guid, so a later .qdpx export merges into the same code there.
            added.guid = code.guid.lower()
        used.add(added.guid)
        existing[code.path] = added
    for here, code in plan.described:
        here.description = code.description
    await session.flush()


def _is_uuid(value: str) -> bool:
    try:
        return len(value) == 36 and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False
