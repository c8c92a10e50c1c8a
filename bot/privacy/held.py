"""What carbot holds about one person, counted (``my data`` in chat, the export's README)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Attachment,
    ChannelIdentity,
    Coding,
    ConsentRecord,
    Delivery,
    Memo,
    Person,
    Reflection,
)


async def held_counts(session: AsyncSession, person: Person) -> dict[str, int]:
    async def count(model: Any, *where: Any) -> int:
        query = select(func.count()).select_from(model).where(*where)
        return int(await session.scalar(query) or 0)

    theirs = select(Reflection.id).where(Reflection.person_id == person.id)
    return {
        "answers and notes": await count(Reflection, Reflection.person_id == person.id),
        "private ones": await count(
            Reflection, Reflection.person_id == person.id, Reflection.audience == "private"
        ),
        "photos, files and voice notes": await count(
            Attachment, Attachment.reflection_id.in_(theirs)
        ),
        "questions sent to you": await count(Delivery, Delivery.person_id == person.id),
        "codes researchers applied": await count(Coding, Coding.reflection_id.in_(theirs)),
        "researchers' memos on your answers": await count(Memo, Memo.reflection_id.in_(theirs)),
        "chat accounts linked": await count(
            ChannelIdentity, ChannelIdentity.person_id == person.id
        ),
        "consent records": await count(ConsentRecord, ConsentRecord.person_id == person.id),
    }


def my_data_text(person: Person, counts: dict[str, int]) -> str:
    lines = ["Here is what carbot holds about you:"]
    lines.append(
        "• your name" + (" and email" if person.email else "") + ", working hours and time zone, "
        "from the study file, and your study code"
    )
    lines.extend(f"• {what}: {n}" for what, n in counts.items())
    lines.append(
        "For a copy of all of it (your private answers and files included), ask your project "
        "lead or the research team for your subject-access export. To have it all deleted, "
        "send 'stop'."
    )
    return "\n".join(lines)
