"""A project's context report for a retreat or local event: the draft the team finishes.

Built from what carbot gathered: the project's aims and research questions, where its cycle is,
the period's reflections grouped into background / status / challenges / evidence / gaps (from
the answers to the context prompts, and from reflections coded with a code of that name), an
evidence inventory, and an evidence-gap table (research question × phase, with counts).

Everything in it is read through the review workspace's access rules
(:func:`bot.review.access.visible`): never a ``private`` reflection; a lead sees ``team``
reflections with the author's name and only the ``team_anonymous`` ones their weekly digest shows
(the small-n rule of :mod:`digests.audience`), without author, date or channel, in an order that
follows neither; a researcher or admin sees authors by study code. Ratings and choices are never
quoted (they only count in the gap table). A withdrawn person's words are left out, as in digests.
The period runs from the day after the project's previous event ended (or its first cycle's start)
to the day before this event starts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from adapters.errors import ReportNotFound
from bot.reports.cycle import cycle_at, gap_table, where_the_cycle_is
from bot.reports.model import ContextReport, EvidenceEntry, Quote
from bot.review.access import Viewer, author_label, visible
from prompts.library import CONTEXT_TOPICS, Library
from storage.models import (
    Attachment,
    Code,
    Coding,
    Cycle,
    Delivery,
    Event,
    EventProject,
    Person,
    Project,
    Reflection,
)

# code names (lower case, words only) that file a coded reflection under a section
CODE_HEADINGS = {
    "background": "background",
    "status": "status",
    "current status": "status",
    "challenge": "challenges",
    "challenges": "challenges",
    "evidence": "evidence",
    "gap": "gaps",
    "gaps": "gaps",
    "evidence gap": "gaps",
    "evidence gaps": "gaps",
}
QUOTED_KINDS = ("text", "note", "evidence")


def heading_of(code_name: str) -> str | None:
    """The section a code's name files a reflection under: "Evidence gaps" → ``gaps``."""
    words = " ".join(re.findall(r"[a-z]+", code_name.lower()))
    return CODE_HEADINGS.get(words)


async def build_context_report(
    session: AsyncSession,
    viewer: Viewer,
    library: Library,
    project_slug: str,
    event_key: str,
    *,
    zone: str = "Europe/London",
    links: bool = True,
    public_url: str = "",
) -> ContextReport:
    project = await session.scalar(
        select(Project)
        .where(Project.slug == project_slug)
        .options(
            selectinload(Project.partnership),
            selectinload(Project.research_questions),
            selectinload(Project.cycles).selectinload(Cycle.phases),
        )
    )
    allowed = viewer.project_ids()
    if project is None or (allowed is not None and project.id not in allowed):
        raise ReportNotFound(f"No project {project_slug!r} that you may see.")
    event = await session.scalar(select(Event).where(Event.key == event_key))
    taking_part = (
        await session.scalar(
            select(EventProject.project_id).where(
                EventProject.event_id == event.id, EventProject.project_id == project.id
            )
        )
        if event is not None
        else None
    )
    if event is None or taking_part is None:
        raise ReportNotFound(f"Project {project_slug!r} takes part in no event {event_key!r}.")
    period = await _period(session, project, event)
    tz = ZoneInfo(project.partnership.timezone or zone)
    start = datetime.combine(period[0], time(0), tz)
    end = datetime.combine(period[1] + timedelta(days=1), time(0), tz)

    phases = {p.id: p for c in project.cycles for p in c.phases}
    questions = {q.id: q for q in project.research_questions}
    rows = (
        await session.execute(
            select(Reflection, Person, Delivery.prompt_key)
            .join(Person, Person.id == Reflection.person_id)
            .outerjoin(Delivery, Delivery.id == Reflection.delivery_id)
            .where(
                Reflection.project_id == project.id,
                Reflection.created_at >= start,
                Reflection.created_at < end,
                Person.withdrawn_at.is_(None),
                visible(viewer),
            )
            .options(selectinload(Reflection.attachments))
            .order_by(Reflection.created_at, Reflection.id)
        )
    ).all()
    coded = await _coded_headings(session, [r.id for r, _, _ in rows])
    topics = library.context_topics()
    ranks = viewer.unlinkable_ranks()

    def link_of(reflection: Reflection) -> str | None:
        if viewer.masks(reflection):
            handle = viewer.handle(reflection.id)
            return f"{public_url}/review/anonymous/{handle}" if links else None
        return f"{public_url}/review/reflections/{reflection.id}"

    def evidence_link(reflection: Reflection, attachment: Attachment, number: int) -> str | None:
        if viewer.masks(reflection):
            base = link_of(reflection)
            return f"{base}/evidence/{number}" if base else None
        return f"{public_url}/review/evidence/{attachment.id}"

    sections: dict[str, list[tuple[tuple[int, float], Quote]]] = defaultdict(list)
    evidence: list[tuple[tuple[int, float], EvidenceEntry]] = []
    for reflection, person, prompt_key in rows:
        if reflection.kind not in QUOTED_KINDS:
            continue
        masked = viewer.masks(reflection)
        order = (1, float(ranks.get(reflection.id, 0)))
        if not masked:
            order = (0, reflection.created_at.timestamp())
        phase = phases.get(reflection.phase_id or 0)
        question = questions.get(reflection.research_question_id or 0)
        day = None if masked else reflection.created_at.astimezone(tz).date()
        quote = Quote(
            text=reflection.text,
            author=author_label(viewer, reflection, person),
            day=day,
            phase=phase.name if phase else "",
            question=question.text if question else "",
            link=link_of(reflection),
            evidence=[a.filename for a in reflection.attachments],
        )
        wanted = set(coded.get(reflection.id, ()))
        if prompt_key in topics:
            wanted.add(topics[prompt_key])
        for topic in wanted:
            sections[topic].append((order, quote))
        for number, attachment in enumerate(reflection.attachments, start=1):
            entry = EvidenceEntry(
                kind=attachment.kind,
                filename=attachment.filename,
                caption=reflection.text,
                day=day,
                phase=quote.phase,
                question=quote.question,
                link=evidence_link(reflection, attachment, number),
            )
            evidence.append((order, entry))

    cycle = cycle_at(project, period[1])
    gap_phases, gaps = await gap_table(session, viewer, project, cycle, period[1], tz)
    return ContextReport(
        project=project.name,
        partnership=project.partnership.name,
        event=event.name,
        event_kind="Retreat" if event.kind == "retreat" else "Local event",
        event_dates=(event.starts_on, event.ends_on),
        period=period,
        aims=project.aims,
        research_questions=[q.text for q in project.research_questions if q.active],
        cycle_now=where_the_cycle_is(project, period[1]),
        sections={
            topic: [q for _, q in sorted(sections[topic], key=lambda pair: pair[0])]
            for topic in CONTEXT_TOPICS
        },
        evidence=[e for _, e in sorted(evidence, key=lambda pair: pair[0])],
        gap_phases=gap_phases,
        gap_cycle=cycle.name if cycle else "",
        gaps=gaps,
        seen_as=_seen_as(viewer, project.id),
    )


async def _period(session: AsyncSession, project: Project, event: Event) -> tuple[date, date]:
    earlier = await session.scalar(
        select(Event.ends_on)
        .join(EventProject, EventProject.event_id == Event.id)
        .where(
            EventProject.project_id == project.id,
            Event.active.is_(True),
            Event.ends_on < event.starts_on,
            Event.id != event.id,
        )
        .order_by(Event.ends_on.desc())
        .limit(1)
    )
    first = min((c.starts_on for c in project.cycles), default=event.starts_on - timedelta(90))
    start = earlier + timedelta(days=1) if earlier is not None else first
    end = event.starts_on - timedelta(days=1)
    return (min(start, end), end)


async def _coded_headings(session: AsyncSession, ids: list[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        rows = await session.execute(
            select(Coding.reflection_id, Code.name)
            .join(Code, Code.id == Coding.code_id)
            .where(Coding.reflection_id.in_(chunk))
        )
        for reflection_id, name in rows.all():
            topic = heading_of(name)
            if topic is not None:
                found[reflection_id].add(topic)
    return found


def _seen_as(viewer: Viewer, project_id: int) -> str:
    if viewer.is_admin or project_id in viewer.researcher_projects:
        return (
            "as researchers see it: every reflection shared with researchers or the team, "
            "authors by study code"
        )
    return (
        "as the project lead's digest shows it: reflections shared with the team, by name; "
        "anonymous ones only when at least three people wrote them, without name or date"
    )
