"""What an erasure would delete, counted without deleting (``--dry-run``, the web preview)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy.subject import Subject
from storage.models import (
    Coding,
    ConsentRecord,
    ConversationState,
    InboundEvent,
    LinkCode,
    Membership,
    Memo,
)


async def planned_counts(session: AsyncSession, subject: Subject) -> Counter[str]:
    """What a real run would delete, counted without deleting."""

    async def count(model: Any, *where: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    counts: Counter[str] = Counter()
    reflections, identities = subject.reflection_ids, subject.identity_ids
    counts["reflections"] = len(reflections)
    counts["evidence files"] = len(subject.evidence)
    counts["codings"] = await count(Coding, Coding.reflection_id.in_(reflections))
    counts["memos"] = await count(Memo, Memo.reflection_id.in_(reflections))
    counts["deliveries"] = len(subject.delivery_ids)
    counts["channel identities"] = len(identities)
    counts["web chat links"] = subject.webchat_links
    counts["link codes"] = await count(LinkCode, LinkCode.person_id == subject.person_id)
    counts["inbound events"] = await count(InboundEvent, InboundEvent.identity_id.in_(identities))
    counts["conversation states"] = await count(
        ConversationState, ConversationState.identity_id.in_(identities)
    )
    counts["digests sent to them"] = len(subject.digest_ids)
    counts["consent records"] = await count(
        ConsentRecord, ConsentRecord.person_id == subject.person_id
    )
    counts["memberships"] = await count(Membership, Membership.person_id == subject.person_id)
    counts["web accounts"] = len(subject.user_ids)
    return counts
