"""A starting codebook for the demo: nested codes, codings on seeded answers, and memos.

So that the review workspace shows what coding looks like from the first sign-in: each code
below has words that mark it, and the first few seeded reflections that use one of those words
get that passage coded. Seeding does nothing when the study already has codes.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo.evaluations import code_evaluation_comments
from bot.review.access import Viewer, cli_viewer
from bot.review.coding import add_code, add_memo, apply_code
from storage.models import Code, Reflection, User

# (parent, colour, description, [(child, colour, description, marking words)])
CODEBOOK = (
    (
        "Access and barriers",
        "#1f77b4",
        "What helps or stops people using a service.",
        (
            ("Trust and relationships", "#2a9d8f", "Who people trust", ("trust", "trusted")),
            ("Money and time", "#e76f51", "Costs and hours", ("bus fare", "payment", "hours")),
            (
                "Buildings and places",
                "#8d6e63",
                "Where it happens",
                ("building", "hall", "library"),
            ),
        ),
    ),
    (
        "Joint working",
        "#6a4c93",
        "Services and partners working together.",
        (
            ("Sharing information", "#3d5a80", "Data and news passed on", ("sharing", "share")),
            ("Meeting in one place", "#f4a261", "Staff in the same room", ("one room", "together")),
        ),
    ),
    (
        "Evidence and knowledge",
        "#2e7d32",
        "What counts as knowing about an area.",
        (
            ("Local knowledge", "#558b2f", "What residents and staff know", ("residents", "story")),
            ("Official figures", "#00838f", "Dashboards, returns, datasets", ("data", "figures")),
        ),
    ),
)
PER_CODE = 4  # reflections coded with each code
CODE_MEMOS = {
    "Access and barriers": "Barriers come up in every partnership; compare what each tried.",
    "Joint working": "Small practical steps (a shared diary, one room) matter more than plans.",
    "Evidence and knowledge": "Residents keep correcting official data — worth a paper.",
}
REFLECTION_MEMO = "A clear example for the cross-partnership workshop."


async def seed_codebook(
    session: AsyncSession, by: User | None = None, at: datetime | None = None
) -> int:
    """Add the demo codebook with codings and memos, as written by ``by`` (else the command
    line) at ``at`` (the demo clock's start; else now); returns how many codings were made."""
    if await session.scalar(select(func.count()).select_from(Code)):
        return 0
    viewer = cli_viewer() if by is None else Viewer(by.id, by.email, is_admin=True)
    reflections = list(
        await session.scalars(
            select(Reflection)
            .where(Reflection.audience != "private", Reflection.text != "")
            .order_by(Reflection.created_at.desc(), Reflection.id)
        )
    )
    codings = 0
    for name, color, description, children in CODEBOOK:
        parent = await add_code(session, viewer, name, color=color, description=description)
        memo = await add_memo(session, viewer, CODE_MEMOS[name], code_id=parent.id)
        memo.created_at = at or memo.created_at
        for child_name, child_color, child_description, words in children:
            child = await add_code(
                session,
                viewer,
                child_name,
                parent_id=parent.id,
                color=child_color,
                description=child_description,
            )
            pattern = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b", re.I)
            coded = 0
            for reflection in reflections:
                found = pattern.search(reflection.text)
                if found is None:
                    continue
                await apply_code(session, viewer, reflection, child.id, found.start(), found.end())
                if coded == 0:
                    await add_memo(session, viewer, REFLECTION_MEMO, reflection_id=reflection.id)
                codings += 1
                coded += 1
                if coded == PER_CODE:
                    break
    return codings + await code_evaluation_comments(session, viewer, at)
