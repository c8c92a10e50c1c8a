"""Qualitative coding: the codebook, codings of spans or whole reflections, memos, counts.

Positions are Unicode code points into ``Reflection.text``, end exclusive — the same as Python
string slicing and as REFI-QDA's ``startPosition``/``endPosition``, so ``text[start:end]`` is
always the coded passage.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.errors import UsageError
from bot.review.access import Viewer, visible
from storage.models import Code, Coding, Memo, Partnership, Phase, Project, Reflection

logger = logging.getLogger(__name__)

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass
class CodeNode:
    code: Code
    depth: int
    children: list[CodeNode] = field(default_factory=list)


async def codebook(session: AsyncSession) -> list[CodeNode]:
    """Every code as a tree (roots first, children under their parent, by name)."""
    codes = (await session.execute(select(Code).order_by(Code.name))).scalars().all()
    nodes = {code.id: CodeNode(code, 0) for code in codes}
    roots: list[CodeNode] = []
    for code in codes:
        node = nodes[code.id]
        parent = nodes.get(code.parent_id) if code.parent_id is not None else None
        (parent.children if parent else roots).append(node)

    def set_depth(items: list[CodeNode], depth: int) -> None:
        for item in items:
            item.depth = depth
            set_depth(item.children, depth + 1)

    set_depth(roots, 0)
    return roots


def flatten(nodes: list[CodeNode]) -> list[CodeNode]:
    out: list[CodeNode] = []
    for node in nodes:
        out.append(node)
        out.extend(flatten(node.children))
    return out


def _require_coder(viewer: Viewer) -> None:
    if not viewer.can_code:
        raise UsageError("Only researchers and admins code reflections and write memos.")


async def _checked_name(
    session: AsyncSession,
    name: str,
    color: str,
    parent_id: int | None,
    renaming: int | None = None,
) -> str:
    """The stripped name, once it and the colour are valid and no sibling code has the name."""
    name = name.strip()
    if not name:
        raise UsageError("A code needs a name.")
    if not COLOUR.match(color):
        raise UsageError("A colour looks like #1f77b4.")
    siblings = select(Code.id).where(
        Code.name == name,
        Code.parent_id.is_(None) if parent_id is None else Code.parent_id == parent_id,
    )
    if renaming is not None:
        siblings = siblings.where(Code.id != renaming)
    if (await session.execute(siblings)).first() is not None:
        raise UsageError(f"There is already a code called {name!r} there.")
    return name


async def add_code(
    session: AsyncSession,
    viewer: Viewer,
    name: str,
    *,
    parent_id: int | None = None,
    color: str = "#1f77b4",
    description: str = "",
) -> Code:
    _require_coder(viewer)
    if parent_id is not None and await session.get(Code, parent_id) is None:
        raise UsageError("That parent code does not exist.")
    name = await _checked_name(session, name, color, parent_id)
    code = Code(
        guid=str(uuid.uuid4()),
        name=name[:200],
        parent_id=parent_id,
        color=color.lower(),
        description=description.strip(),
        created_by=viewer.user_id,
    )
    session.add(code)
    await session.flush()
    return code


async def update_code(
    session: AsyncSession,
    viewer: Viewer,
    code: Code,
    *,
    name: str,
    color: str,
    description: str,
) -> Code:
    """Rename a code, or change its colour or description; its codings stay as they are."""
    _require_coder(viewer)
    name = await _checked_name(session, name, color, code.parent_id, renaming=code.id)
    code.name, code.color, code.description = name[:200], color.lower(), description.strip()
    await session.flush()
    return code


async def apply_code(
    session: AsyncSession,
    viewer: Viewer,
    reflection: Reflection,
    code_id: int | None,
    start: int | None = None,
    end: int | None = None,
) -> Coding:
    """Code ``reflection.text[start:end]``, or the whole reflection when both are None."""
    _require_coder(viewer)
    if code_id is None or await session.get(Code, code_id) is None:
        raise UsageError("Choose a code from the codebook.")
    if (start is None) != (end is None):
        raise UsageError("Give both the start and the end of the passage, or neither.")
    if start is not None and end is not None:
        length = len(reflection.text)
        if not (0 <= start < end <= length):
            raise UsageError(f"A passage runs from 0 to {length} and must not be empty.")
    same = await session.execute(
        select(Coding).where(
            Coding.reflection_id == reflection.id,
            Coding.code_id == code_id,
            Coding.start.is_(None) if start is None else Coding.start == start,
            Coding.end.is_(None) if end is None else Coding.end == end,
        )
    )
    already = same.scalars().first()
    if already is not None:
        # The same code on the same passage twice says nothing more (and QDA tools keep one).
        return already
    coding = Coding(
        guid=str(uuid.uuid4()),
        code_id=code_id,
        reflection_id=reflection.id,
        start=start,
        end=end,
        created_by=viewer.user_id,
    )
    session.add(coding)
    await session.flush()
    return coding


async def remove_coding(session: AsyncSession, viewer: Viewer, coding: Coding) -> None:
    _require_coder(viewer)
    await session.delete(coding)


async def add_memo(
    session: AsyncSession,
    viewer: Viewer,
    text: str,
    *,
    reflection_id: int | None = None,
    code_id: int | None = None,
) -> Memo:
    _require_coder(viewer)
    text = text.strip()
    if not text:
        raise UsageError("A memo needs some text.")
    memo = Memo(
        guid=str(uuid.uuid4()),
        reflection_id=reflection_id,
        code_id=code_id,
        text=text,
        created_by=viewer.user_id,
    )
    session.add(memo)
    await session.flush()
    return memo


async def code_counts(
    session: AsyncSession, viewer: Viewer
) -> dict[str, dict[tuple[str, str], int]]:
    """For each code guid: how many codings, by (partnership name, phase name), over the
    reflections the viewer may see."""
    rows = await session.execute(
        select(Code.guid, Partnership.name, Phase.name, func.count(Coding.id))
        .join(Coding, Coding.code_id == Code.id)
        .join(Reflection, Reflection.id == Coding.reflection_id)
        .outerjoin(Project, Project.id == Reflection.project_id)
        .outerjoin(Partnership, Partnership.id == Project.partnership_id)
        .outerjoin(Phase, Phase.id == Reflection.phase_id)
        .where(visible(viewer))
        .group_by(Code.guid, Partnership.name, Phase.name)
    )
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for guid, partnership, phase, number in rows:
        counts.setdefault(guid, {})[(partnership or "—", phase or "—")] = number
    return counts
