"""The data of one project's weekly digest, built from the database with every audience honoured.

Only ``team`` and ``team_anonymous`` reflections are ever read for a lead (``researchers`` and
``private`` ones are filtered out by the query itself), and the small-n rule of
:mod:`digests.audience` decides what of the anonymous ones may be shown. Engagement
(:mod:`digests.engagement`) is counted from delivery rows, in aggregate only: nothing here knows
who did not answer.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from digests.aggregates import ratings_and_choices
from digests.audience import (
    CARRY_WEEKS,
    DigestKind,
    anonymous_pool_open,
    carried_over,
    is_anonymous,
    shows_name,
    unlinkable_order,
    visible_audiences,
)
from digests.engagement import week_engagement
from digests.model import (
    CONFIRMATIONS,
    COUNTED,
    NO_PHASE,
    NO_QUESTION,
    Engagement,
    EvidenceItem,
    Item,
    PhaseGroup,
    QuestionSection,
    WeeklyDigest,
    WeekRate,
    day_text,
    format_rate,
    review_link,
)
from digests.schedule import DigestSchedule, Week, is_plan_prompt
from digests.themes import Corpus, top_themes
from digests.timeline import timeline_for
from storage.models import (
    Attachment,
    Delivery,
    Membership,
    Person,
    Project,
    Reflection,
    ResearchQuestion,
)

log = logging.getLogger(__name__)

__all__ = [
    "COUNTED",
    "Engagement",
    "Item",
    "WeekRate",
    "WeeklyDigest",
    "build_weekly",
    "day_text",
    "format_rate",
    "participant_count",
    "pooled",
    "review_link",
    "study_corpus",
]


def pooled(kind: DigestKind, reflection: Reflection) -> bool:
    """Whether a reflection counts towards (and waits on) the anonymous pool."""
    return (
        is_anonymous(kind, reflection.audience)
        and reflection.kind not in ("scale", "choice")
        and not (reflection.kind == "feedback" and reflection.text.strip() in CONFIRMATIONS)
    )


async def _rows(
    session: AsyncSession,
    project_id: int,
    start: Any,
    end: Any,
    audiences: Any,
) -> list[Any]:
    """The project's reflections in [start, end) with these audiences, with author name and
    prompt; never a withdrawn person's."""
    result = await session.execute(
        select(
            Reflection,
            Person.name,
            Delivery.prompt_key,
            Delivery.prompt_text,
            Delivery.prompt_options,
        )
        .join(Person, Reflection.person_id == Person.id)
        .outerjoin(Delivery, Reflection.delivery_id == Delivery.id)
        .where(
            Reflection.project_id == project_id,
            Reflection.created_at >= start,
            Reflection.created_at < end,
            Reflection.audience.in_(tuple(audiences)),
            Person.withdrawn_at.is_(None),
        )
        .order_by(Reflection.created_at, Reflection.id)
    )
    return list(result.all())


async def study_corpus(session: AsyncSession, audiences: Iterable[str]) -> Corpus:
    """Every reflection with text that these audiences allow, over the whole study: the corpus
    that a week's themes are weighed against (never a withdrawn person's)."""
    texts = await session.scalars(
        select(Reflection.text)
        .join(Person, Reflection.person_id == Person.id)
        .where(
            Reflection.audience.in_(tuple(audiences)),
            Reflection.kind.not_in(("scale", "choice")),
            Reflection.text != "",
            Person.withdrawn_at.is_(None),
        )
    )
    return Corpus.of(texts)


async def participant_count(session: AsyncSession, project_id: int) -> int:
    """How many people take part in the project now (active participants, not withdrawn)."""
    count = await session.scalar(
        select(func.count(func.distinct(Membership.person_id)))
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.project_id == project_id,
            Membership.role == "participant",
            Membership.active.is_(True),
            Person.withdrawn_at.is_(None),
        )
    )
    return int(count or 0)


async def build_weekly(
    session: AsyncSession,
    project: Project,
    week: Week,
    tz: ZoneInfo,
    *,
    public_url: str,
    schedule: DigestSchedule,
    kind: DigestKind = "lead_weekly",
    partnership_name: str = "",
) -> WeeklyDigest:
    """The digest of ``project`` for ``week`` (in zone ``tz``), as ``kind`` may show it."""
    start, end = week.bounds(tz)
    rows = await _rows(session, project.id, start, end, visible_audiences(kind))
    # The small-n rule: who contributed anonymous items (not ratings or choices) this week, and
    # which anonymous items of the weeks before are still held back and join this week's pool?
    carried: list[Any] = []
    if any(is_anonymous(kind, a) for a in visible_audiences(kind)):
        window_start, _ = week.shifted(-(CARRY_WEEKS - 1)).bounds(tz)
        hidden = tuple(a for a in visible_audiences(kind) if is_anonymous(kind, a))
        earlier = await _rows(session, project.id, window_start, start, hidden)
        keep = carried_over(
            (
                (r.id, r.person_id, Week.containing(r.created_at.astimezone(tz).date()).monday)
                for r, *_ in earlier
                if pooled(kind, r)
            ),
            week.monday,
        )
        carried = [row for row in earlier if row[0].id in keep]
    pool_people = {r.person_id for r, *_ in rows if pooled(kind, r)}
    pool_open = anonymous_pool_open(pool_people | {r.person_id for r, *_ in carried})
    carried_ids = {row[0].id for row in carried}
    rows = list(rows) + carried
    ids = [row[0].id for row in rows]
    attachments: dict[int, list[Attachment]] = defaultdict(list)
    for start_at in range(0, len(ids), 500):
        chunk = ids[start_at : start_at + 500]
        found = await session.scalars(
            select(Attachment).where(Attachment.reflection_id.in_(chunk)).order_by(Attachment.id)
        )
        for attachment in found:
            attachments[attachment.reflection_id].append(attachment)

    questions = list(
        await session.scalars(
            select(ResearchQuestion)
            .where(ResearchQuestion.project_id == project.id)
            .order_by(ResearchQuestion.position, ResearchQuestion.id)
        )
    )
    timeline, phase_names, phase_order = await timeline_for(
        session, project.id, week.sunday + timedelta(days=1)
    )
    question_text = {q.id: q.text for q in questions}

    by_question: dict[int | None, dict[int | None, list[Item]]] = defaultdict(
        lambda: defaultdict(list)
    )
    plans: list[Item] = []
    feedback: list[Item] = []
    evidence: list[EvidenceItem] = []
    scale: dict[str, list[tuple[int, int, list[Any]]]] = defaultdict(list)
    choice: dict[str, list[tuple[int, str, list[Any]]]] = defaultdict(list)
    held_back = 0
    confirmations = 0
    for reflection, name, prompt_key, prompt_text, options in rows:
        prompt = prompt_text or None
        if reflection.kind == "feedback" and reflection.text.strip() in CONFIRMATIONS:
            confirmations += 1
            continue
        if reflection.kind == "scale" and reflection.scale_value is not None:
            scale[prompt or "Ratings"].append(
                (reflection.person_id, reflection.scale_value, options)
            )
            continue
        if reflection.kind == "choice" and reflection.choice is not None:
            choice[prompt or "Choices"].append((reflection.person_id, reflection.choice, options))
            continue
        anonymous = is_anonymous(kind, reflection.audience)
        if anonymous and not pool_open:
            held_back += 1
            continue
        named = shows_name(kind, reflection.audience)
        item = Item(
            id=reflection.id,
            text=reflection.text,
            kind=reflection.kind,
            url=review_link(public_url, reflection.id),
            author=name if named else None,
            when=day_text(reflection.created_at.astimezone(tz).date()) if named else None,
            prompt=prompt,
            phase=phase_names.get(reflection.phase_id) if reflection.phase_id else None,
            question=question_text.get(reflection.research_question_id or -1),
            earlier=reflection.id in carried_ids,
        )
        files = attachments.get(reflection.id, [])
        for attachment in files:
            what = {"photo": "Photo", "voice": "Voice note"}.get(attachment.kind, "File")
            evidence.append(
                EvidenceItem(
                    reflection_id=reflection.id,
                    kind=attachment.kind,
                    filename=attachment.filename,
                    caption=reflection.text,
                    url=item.url,
                    alt=f"{what}: {reflection.text[:80] or attachment.filename}",
                    author=item.author,
                    attachment_id=attachment.id,
                    path=attachment.path,
                    size=attachment.size,
                    content_type=attachment.content_type,
                )
            )
        if files or (reflection.kind == "evidence" and not reflection.text.strip()):
            continue
        if reflection.kind == "feedback":
            feedback.append(item)
        elif is_plan_prompt(prompt_key, prompt_text, schedule.plan_prompts):
            plans.append(item)
        else:
            by_question[reflection.research_question_id][reflection.phase_id].append(item)

    salt = f"{project.slug}:{week.label}"
    sections: list[QuestionSection] = []
    for question_id in [q.id for q in questions] + [None]:
        phases = by_question.get(question_id)
        if not phases:
            continue
        section = QuestionSection(question_text.get(question_id or -1, NO_QUESTION))
        for phase_id in sorted(phases, key=lambda p: phase_order.get(p or -1, 10**6)):
            section.groups.append(
                PhaseGroup(
                    phase_names.get(phase_id, NO_PHASE) if phase_id else NO_PHASE,
                    _named_then_anonymous(phases[phase_id], salt),
                )
            )
        sections.append(section)

    ratings, choices, aggregates_held_back = await ratings_and_choices(
        session, project.id, week, tz, kind, scale, choice
    )
    shown_texts = [i.text for s in sections for g in s.groups for i in g.items]
    return WeeklyDigest(
        kind=kind,
        project_name=project.name,
        project_slug=project.slug,
        partnership_name=partnership_name,
        week=week,
        zone=tz.key,
        engagement=await week_engagement(session, project.id, week, tz),
        sections=sections,
        plans=_named_then_anonymous(plans, salt),
        feedback=_named_then_anonymous(feedback, salt),
        evidence=evidence,
        ratings=ratings,
        choices=choices,
        held_back=held_back,
        aggregates_held_back=aggregates_held_back,
        confirmations=confirmations,
        timeline=timeline,
        themes=top_themes(
            shown_texts + [i.text for i in plans],
            await study_corpus(session, visible_audiences(kind)),
        ),
        review_url=f"{public_url.rstrip('/')}/review",
        participants=await participant_count(session, project.id),
    )


def _named_then_anonymous(items: list[Item], salt: str) -> list[Item]:
    named = [i for i in items if i.author]
    unnamed = [i for i in items if not i.author]
    return named + unlinkable_order(unnamed, key=lambda i: i.id, salt=salt)
