"""The codebook as REFI-QDA: ``.qdc`` files, and the ``<Codes>`` of a project."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from lxml import etree
from sqlalchemy.ext.asyncio import AsyncSession

from bot.review.coding import CodeNode, codebook
from bot.review.exports import (
    export_code_names,
)
from bot.review.exports.qda_xml import (
    CODEBOOK_NS,
    NAME_IN_CARBOT,
    PROJECT_NS,
    stable_guid,
    sub_element,
)
from storage.models import Code, Memo

logger = logging.getLogger(__name__)


def code_description(code: Code, export_name: str, memos: Iterable[Memo] = ()) -> str:
    """The code's description, then its own name when the export had to change it, then memos."""
    parts = [code.description] if code.description else []
    if export_name != code.name:
        parts.append(f"{NAME_IN_CARBOT}{code.name}")
    parts.extend(f"Memo: {memo.text}" for memo in memos)
    return "\n\n".join(parts)


def code_elements(
    parent: Any,
    ns: str,
    nodes: list[CodeNode],
    names: dict[int, str],
    memos: dict[int, list[Memo]],
) -> None:
    for node in nodes:
        code = node.code
        element = sub_element(
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
            sub_element(element, ns, "Description", text=description)
        if ns == PROJECT_NS:
            for memo in memos.get(code.id, []):
                sub_element(element, ns, "NoteRef", targetGUID=memo.guid)
        code_elements(element, ns, node.children, names, memos)


async def codebook_xml(session: AsyncSession) -> bytes:
    """The codebook as a REFI-QDA ``.qdc`` document."""
    root = etree.Element(
        f"{{{CODEBOOK_NS}}}CodeBook",
        nsmap={None: CODEBOOK_NS},  # type: ignore[dict-item]
        origin="carbot",
    )
    codes = sub_element(root, CODEBOOK_NS, "Codes")
    nodes = await codebook(session)
    code_elements(codes, CODEBOOK_NS, nodes, export_code_names(nodes), {})
    if not nodes:
        # The schema needs at least one code; an empty codebook still gives a valid file.
        sub_element(
            codes,
            CODEBOOK_NS,
            "Code",
            guid=stable_guid("code", "uncoded"),
            name="(no codes yet)",
            isCodable="false",
        )
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
