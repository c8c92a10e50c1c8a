"""Getting the demo ready: schema, study, seeded weeks, personal links, and a prompt due now.

The demo clock starts at a moment when the demo people are at work and their projects are in a
phase (the real time when that fits; otherwise the next working morning, inside the study's
dates), so that the first prompt arrives within a minute of ``make demo``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.channels.webchat import chat_url, issue_webchat_link
from bot.core.onboarding import record_consent
from bot.core.people import active_consent
from bot.demo.codebook import seed_codebook
from bot.demo.seed import SeedReport, seed_demo
from bot.review.auth import hash_password, new_password
from bot.review.throttle import forget_address
from bot.services import Services
from bot.study import load_study
from prompts.library import load_library
from prompts.schedule import is_working_time, next_working_moment, working_pattern
from storage.db import transaction, upgrade_async
from storage.models import (
    AuditLog,
    Cycle,
    Delivery,
    Event,
    EventProject,
    Membership,
    Person,
    Phase,
    Project,
    Reflection,
    User,
)
from storage.queries import the_study

log = logging.getLogger(__name__)

DEMO_STUDY = Path("examples") / "wws-demo.yaml"
REVIEW_PERSON = "alex-reid"


@dataclass
class DemoLink:
    name: str
    project: str
    url: str


@dataclass
class DemoReady:
    start: datetime
    zone: str
    links: list[DemoLink] = field(default_factory=list)
    seeded: SeedReport | None = None
    review_email: str | None = None
    review_password: str | None = None
    context_report: str | None = None  # the review path of a context report for a past event


def demo_study_path(given: Path | None) -> Path:
    """The study file: as given, else ``examples/wws-demo.yaml`` here or beside the code."""
    if given is not None:
        return given
    if DEMO_STUDY.exists():
        return DEMO_STUDY
    return Path(__file__).resolve().parents[2] / DEMO_STUDY


@dataclass(frozen=True)
class _Candidate:
    person: Person
    project: Project
    phases: tuple[Phase, ...]

    def in_phase(self, moment: datetime) -> bool:
        zone = working_pattern(self.person, self.project.partnership.timezone).zone
        day = moment.astimezone(zone).date()
        return any(p.starts_on <= day <= p.ends_on for p in self.phases)


async def _candidates(session: AsyncSession) -> list[_Candidate]:
    """One participant per partnership, in a stable order: the people to demo with."""
    rows = await session.scalars(
        select(Membership)
        .join(Person, Membership.person_id == Person.id)
        .where(
            Membership.role == "participant",
            Membership.active.is_(True),
            Person.active.is_(True),
        )
        .order_by(Membership.project_id, Person.key)
        .options(
            selectinload(Membership.person),
            selectinload(Membership.project).selectinload(Project.partnership),
            selectinload(Membership.project)
            .selectinload(Project.cycles)
            .selectinload(Cycle.phases),
        )
    )
    chosen: dict[int, _Candidate] = {}
    for membership in rows:
        project = membership.project
        if not project.active or project.partnership_id in chosen:
            continue
        pattern = working_pattern(membership.person, project.partnership.timezone)
        if pattern.pauses or len(pattern.working_days) < 5:
            continue  # the demo is livelier with someone who works all week and is not on leave
        phases = tuple(p for c in project.cycles for p in c.phases)
        chosen[project.partnership_id] = _Candidate(membership.person, project, phases)
    return list(chosen.values())


async def _latest_activity(session: AsyncSession) -> datetime | None:
    sent = await session.scalar(select(func.max(Delivery.sent_at)))
    said = await session.scalar(select(func.max(Reflection.created_at)))
    times = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in (sent, said) if t is not None]
    return max(times) if times else None


def _start_for(candidates: list[_Candidate], base: datetime) -> datetime:
    """The first moment at or after ``base`` when every candidate is at work, in a phase."""
    patterns = [working_pattern(c.person, c.project.partnership.timezone) for c in candidates]
    moment = base.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(500):
        nexts = [next_working_moment(moment, pattern) for pattern in patterns]
        if any(n is None for n in nexts):
            break
        latest = max(n for n in nexts if n is not None)
        if all(is_working_time(latest, p) for p in patterns) and all(
            c.in_phase(latest) for c in candidates
        ):
            return latest
        moment = latest if latest > moment else moment + timedelta(minutes=30)
    return base


async def demo_start(services: Services, real_now: datetime, people: int = 3) -> datetime:
    """When the demo clock should start (see the module text)."""
    async with services.sessions() as session:
        candidates = (await _candidates(session))[:people]
        latest = await _latest_activity(session)
        last_day = await session.scalar(select(func.max(Phase.ends_on)))
    base = max(real_now, latest + timedelta(minutes=1)) if latest else real_now
    if last_day is not None and base.date() > last_day - timedelta(days=14):
        base = datetime.combine(last_day - timedelta(days=28), datetime.min.time(), tzinfo=UTC)
    if not candidates:
        return base
    return _start_for(candidates, base)


async def _due_now(session: AsyncSession, candidate: _Candidate, start: datetime) -> None:
    """A prompt for ``candidate`` due at the demo's first minute, as the planner would plan it."""
    pattern = working_pattern(candidate.person, candidate.project.partnership.timezone)
    if not is_working_time(start, pattern) or not candidate.in_phase(start):
        return
    open_now = await session.scalar(
        select(func.count()).where(
            Delivery.person_id == candidate.person.id,
            Delivery.status.in_(("planned", "sending", "sent", "reminded")),
        )
    )
    if open_now:
        return
    study = await the_study(session)
    library = load_library(study.options if study is not None else None)
    day = start.astimezone(pattern.zone).date()
    phase = next(p for p in candidate.phases if p.starts_on <= day <= p.ends_on)
    await session.refresh(candidate.project, ["research_questions"])
    questions = [rq for rq in candidate.project.research_questions if rq.active]
    themes = sorted({str(t) for rq in questions for t in rq.themes or []})
    chosen = library.choose(
        phase.key, questions, themes, [], {}, seed=f"demo:{candidate.person.key}:{start}"
    )
    values = {
        "person_id": candidate.person.id,
        "project_id": candidate.project.id,
        "slot": start,
        "due_at": start,
        "cycle_id": phase.cycle_id,
        "phase_id": phase.id,
        "research_question_id": next(
            (rq.id for rq in questions if rq.key == chosen.research_question_key), None
        ),
        "prompt_key": chosen.key,
        "prompt_kind": chosen.kind,
        "prompt_text": chosen.text,
        "prompt_options": chosen.options,
        "status": "planned",
    }
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    await session.execute(insert(Delivery).values(**values).on_conflict_do_nothing())


async def _review_account(session: AsyncSession) -> tuple[str, str] | None:
    """A demo admin account for the review workspace, with a fresh password each time."""
    person = await session.scalar(select(Person).where(Person.key == REVIEW_PERSON))
    if person is None or not person.email:
        return None
    password = new_password()
    account = await session.scalar(select(User).where(User.email == person.email))
    if account is None:
        account = User(email=person.email, person_id=person.id, is_admin=True)
        session.add(account)
    account.password_hash = hash_password(password)
    account.active = True
    await forget_address(session, person.email)
    session.add(AuditLog(actor="cli", action="demo.review_account", target=person.email))
    return person.email, password


async def prepare_demo(
    services: Services,
    *,
    study: Path | None = None,
    weeks: int = 6,
    people: int = 3,
    real_now: datetime | None = None,
) -> DemoReady:
    """Make the database ready for the demo; returns where it starts and its links."""
    await upgrade_async(services.settings.database_url)
    await load_study(services, demo_study_path(study))
    start = await demo_start(services, real_now or datetime.now(UTC), people)
    ready = DemoReady(start=start, zone="Europe/London")
    async with services.sessions() as session:
        has_answers = await session.scalar(select(func.count()).select_from(Reflection))
    if not has_answers and weeks > 0:
        ready.seeded = await seed_demo(services, start, weeks=weeks)
    async with transaction(services.sessions) as session:
        candidates = (await _candidates(session))[:people]
        for candidate in candidates:
            token = await issue_webchat_link(session, candidate.person, now=start)
            if await active_consent(session, candidate.person) is None:
                await record_consent(session, candidate.person, channel="webchat", now=start)
            ready.links.append(
                DemoLink(
                    candidate.person.name,
                    candidate.project.name,
                    chat_url(services.settings, token),
                )
            )
        if candidates:
            ready.zone = candidates[0].project.partnership.timezone
            await _due_now(session, candidates[0], start)
        account = await _review_account(session)
        if account is not None:
            ready.review_email, ready.review_password = account
        if ready.seeded is not None:
            await session.flush()
            by = await session.scalar(select(User).where(User.email == ready.review_email))
            ready.seeded.codings = await seed_codebook(session, by, start)
        ready.context_report = await _context_report_path(session, start)
    return ready


async def _context_report_path(session: AsyncSession, start: datetime) -> str | None:
    """A context report worth opening: the latest event before the demo's start, for the first
    project taking part (by slug)."""
    found = (
        await session.execute(
            select(Project.slug, Event.key)
            .join(EventProject, EventProject.project_id == Project.id)
            .join(Event, Event.id == EventProject.event_id)
            .where(Event.active.is_(True), Event.ends_on < start.date())
            .order_by(Event.starts_on.desc(), Project.slug)
            .limit(1)
        )
    ).first()
    if found is None:
        return None
    return "/review/reports/context?" + urlencode({"project": found[0], "event": found[1]})
