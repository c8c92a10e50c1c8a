"""The pieces of carbot's REFI-QDA (QDA-XML 1.0) exports: namespaces, stable guids, text and
file names made safe, XML helpers, and the reads every export shares.

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
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.review.access import Viewer
from storage.models import Membership, Memo, Reflection

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


def sub_element(parent: Any, ns: str, tag: str, text: str | None = None, **attrs: str) -> Any:
    element = etree.SubElement(
        parent, f"{{{ns}}}{tag}", {k: xml_safe(v) for k, v in attrs.items() if v}
    )
    if text is not None:
        element.text = xml_safe(text)
    return element


def variable_value(parent: Any, variable_guid: str, value: str) -> None:
    element = sub_element(parent, PROJECT_NS, "VariableValue")
    sub_element(element, PROJECT_NS, "VariableRef", targetGUID=variable_guid)
    sub_element(element, PROJECT_NS, "TextValue", text=value)


class Case:
    def __init__(self, guid: str, name: str) -> None:
        self.guid = guid
        self.name = name
        self.partnerships: set[str] = set()
        self.roles: set[str] = set()
        self.sources: list[str] = []


async def roles_of(session: AsyncSession, person_ids: Iterable[int]) -> dict[int, set[str]]:
    rows = await session.execute(
        select(Membership.person_id, Membership.role).where(Membership.person_id.in_(person_ids))
    )
    found: dict[int, set[str]] = {}
    for person_id, role in rows:
        found.setdefault(person_id, set()).add(role)
    return found


async def memos_on(session: AsyncSession, reflection_ids: list[int]) -> dict[int, list[Memo]]:
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


def memo_line(memo: Memo) -> str:
    return f"Memo ({memo.created_at:%Y-%m-%d}): {memo.text}"


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
