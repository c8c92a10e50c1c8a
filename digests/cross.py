"""The cross-partnership learning digest for researchers: what partnerships share.

Read only from reflections whose audience allows researchers (``researchers``,
``team_anonymous``, ``team``; never ``private``), and pseudonymised: people appear by their
study code, never by name. A theme is "shared" when reflections from at least two partnerships
mention it — the learning "between case study partners" that the programme values — and it is
weighed by TF-IDF against the study's whole corpus, so that its filler words are never themes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from digests.audience import visible_audiences
from digests.data import COUNTED, review_link, study_corpus
from digests.model import Rate
from digests.schedule import Week
from digests.themes import Corpus, terms
from storage.models import Delivery, Partnership, Person, Project, Reflection, ResearchQuestion

MAX_SHARED = 8
QUOTES_PER_PARTNERSHIP = 2


@dataclass(kw_only=True)
class PartnershipSummary(Rate):
    name: str
    projects: int = 0
    reflections: int = 0
    contributors: int = 0


@dataclass
class SharedTheme:
    term: str
    partnerships: list[str]
    count: int


@dataclass
class Quote:
    text: str
    code: str  # the author's study code
    partnership: str
    project: str
    url: str


@dataclass
class CrossDigest:
    week: Week
    zone: str
    partnerships: list[PartnershipSummary]
    shared_themes: list[SharedTheme]
    question_themes: list[SharedTheme]
    quotes: list[Quote]
    review_url: str
    total: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.total == 0


async def build_cross(
    session: AsyncSession, week: Week, tz: ZoneInfo, *, public_url: str
) -> CrossDigest:
    start, end = week.bounds(tz)
    rows = (
        await session.execute(
            select(
                Reflection.id,
                Reflection.text,
                Reflection.kind,
                Reflection.person_id,
                Person.study_code,
                Project.name,
                Partnership.id,
                Partnership.name,
                ResearchQuestion.themes,
            )
            .join(Person, Reflection.person_id == Person.id)
            .join(Project, Reflection.project_id == Project.id)
            .join(Partnership, Project.partnership_id == Partnership.id)
            .outerjoin(ResearchQuestion, Reflection.research_question_id == ResearchQuestion.id)
            .where(
                Reflection.created_at >= start,
                Reflection.created_at < end,
                Reflection.audience.in_(visible_audiences("cross_partnership")),
                Person.withdrawn_at.is_(None),
            )
            .order_by(Reflection.id)
        )
    ).all()
    names = (await session.execute(select(Partnership.name))).scalars().all()
    clashes = {n for n in names if names.count(n) > 1}
    summaries: dict[str, PartnershipSummary] = {}
    projects: dict[str, set[str]] = defaultdict(set)
    people: dict[str, set[int]] = defaultdict(set)
    term_partnerships: dict[str, set[str]] = defaultdict(set)
    term_count: dict[str, int] = defaultdict(int)
    tag_partnerships: dict[str, set[str]] = defaultdict(set)
    tag_count: dict[str, int] = defaultdict(int)
    texts: list[tuple[int, str, str, str, str, set[str]]] = []
    for rid, text, kind, person_id, code, project, partnership_id, name, tags in rows:
        partnership = f"{name} (#{partnership_id})" if name in clashes else name
        summary = summaries.setdefault(partnership, PartnershipSummary(name=partnership))
        summary.reflections += 1
        projects[partnership].add(project)
        people[partnership].add(person_id)
        for tag in tags or []:
            tag_partnerships[str(tag)].add(partnership)
            tag_count[str(tag)] += 1
        if kind in ("scale", "choice") or not text.strip():
            continue
        found = terms(text)
        for term in found:
            term_partnerships[term].add(partnership)
            term_count[term] += 1
        texts.append((rid, text, code, project, partnership, found))
    for name, summary in summaries.items():
        summary.projects = len(projects[name])
        summary.contributors = len(people[name])

    deliveries = (
        await session.execute(
            select(Partnership.id, Partnership.name, Delivery.status)
            .join(Project, Delivery.project_id == Project.id)
            .join(Partnership, Project.partnership_id == Partnership.id)
            .where(Delivery.slot >= start, Delivery.slot < end, Delivery.status.in_(COUNTED))
        )
    ).all()
    for partnership_id, name, status in deliveries:
        partnership = f"{name} (#{partnership_id})" if name in clashes else name
        summary = summaries.setdefault(partnership, PartnershipSummary(name=partnership))
        summary.asked += 1
        summary.answered += status == "answered"

    corpus = await study_corpus(session, visible_audiences("cross_partnership"))
    shared = _shared(term_partnerships, term_count, corpus)
    shared_terms = {theme.term for theme in shared}
    quotes: list[Quote] = []
    per_partnership: dict[str, int] = defaultdict(int)
    for rid, text, code, project, partnership, found in sorted(
        texts, key=lambda t: (-len(t[5] & shared_terms), t[0])
    ):
        if per_partnership[partnership] >= QUOTES_PER_PARTNERSHIP or not found & shared_terms:
            continue
        per_partnership[partnership] += 1
        quotes.append(Quote(text, code, partnership, project, review_link(public_url, rid)))
    question_themes = sorted(
        (
            SharedTheme(tag, sorted(parts), tag_count[tag])
            for tag, parts in tag_partnerships.items()
        ),
        key=lambda t: (-len(t.partnerships), -t.count, t.term),
    )
    return CrossDigest(
        week=week,
        zone=tz.key,
        partnerships=sorted(summaries.values(), key=lambda s: s.name),
        shared_themes=shared,
        question_themes=question_themes,
        quotes=sorted(quotes, key=lambda q: (q.partnership, q.project)),
        review_url=f"{public_url.rstrip('/')}/review",
        total=len(rows),
    )


def _shared(
    partnerships: dict[str, set[str]], counts: dict[str, int], corpus: Corpus
) -> list[SharedTheme]:
    """Terms from at least two partnerships, weighed by TF-IDF against the study's corpus; the
    study's filler words are left out."""
    ranked = sorted(
        (
            term
            for term, parts in partnerships.items()
            if len(parts) >= 2 and not corpus.is_filler(term)
        ),
        key=lambda t: (-len(partnerships[t]), -corpus.weight(t, counts[t]), -len(t.split()), t),
    )
    chosen: list[SharedTheme] = []
    for term in ranked:
        if any(
            term in theme.term.split() and partnerships[term] == set(theme.partnerships)
            for theme in chosen
        ):
            continue
        chosen.append(SharedTheme(term, sorted(partnerships[term]), counts[term]))
        if len(chosen) == MAX_SHARED:
            break
    return chosen
