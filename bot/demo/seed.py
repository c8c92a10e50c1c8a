"""``carbot demo seed``: weeks of plausible, made-up answers, consistent with the data model.

For every participant of every active project, the weeks before ``now`` are filled the way
carbot itself would have filled them: deliveries on the project's cadence days, inside the
person's working hours (no bank holidays, no leave), with prompts chosen by the prompt library
for the phase of the day (rotation and carry-forward included), then answered, answered after
the one reminder, skipped or left to expire. Answers are text, ratings, choices, a few photos and
voice notes, and the odd ad-hoc note, with audiences mixed.

Seeding is idempotent: a delivery is keyed by (person, project, slot) and every slot is a pure
function of the person, the project and the week, so running it twice adds nothing.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from adapters.webchat.channel import identity_key, new_token
from bot.core.onboarding import record_consent
from bot.demo.evaluations import seed_evaluations
from bot.demo.seed_answers import AnswerWriter, SeedReport
from bot.engine.plan_rows import delivery_values
from bot.services import Services
from prompts.cadence import WEEKDAYS, Cadence
from prompts.context import EventWindow, context_prompt
from prompts.library import ChosenPrompt, Library, load_library
from prompts.schedule import (
    WorkingPattern,
    expires_at,
    is_working_time,
    local_instant,
    reminder_at,
    working_pattern,
)
from storage.db import transaction
from storage.models import (
    ChannelIdentity,
    ConsentRecord,
    Cycle,
    Delivery,
    Event,
    EventProject,
    Membership,
    Person,
    Phase,
    Project,
    Reflection,
)
from storage.queries import the_study

log = logging.getLogger(__name__)


def _weeks_back(now: datetime, zone_pattern: WorkingPattern, weeks: int) -> list[date]:
    today = now.astimezone(zone_pattern.zone).date()
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=w) for w in range(weeks, -1, -1)]


def _slots(cadence: Cadence, pattern: WorkingPattern, monday: date, seed: str) -> list[datetime]:
    """This week's prompt times for one person in one project, like the planner's."""
    days = sorted({WEEKDAYS.index(d) for d in cadence.weekdays})[: cadence.per_week]
    slots = []
    for weekday in days:
        rng = random.Random(f"{seed}:{monday.isoformat()}:{weekday}")
        if cadence.at is not None:
            at = cadence.at
        else:
            start = cadence.window[0].hour * 60 + cadence.window[0].minute
            end = cadence.window[1].hour * 60 + cadence.window[1].minute
            minute = rng.randrange(start, max(start + 1, end))
            at = time(minute // 60, minute % 60)
        slot = local_instant(monday + timedelta(days=weekday), at, pattern.zone)
        if is_working_time(slot, pattern):
            slots.append(slot)
    return slots


class _Seeder(AnswerWriter):
    def __init__(self, services: Services, session: AsyncSession, now: datetime) -> None:
        self.services = services
        self.session = session
        self.now = now
        self.report = SeedReport()
        self.files = 0

    async def setup(self) -> None:
        study = await the_study(self.session)
        self.library: Library = load_library(study.options if study is not None else None)
        self.files = len(
            list(
                await self.session.scalars(
                    select(Reflection.id).where(Reflection.kind == "evidence")
                )
            )
        )

    async def participant(self, person: Person, first_slot: datetime) -> ChannelIdentity:
        """Make sure the person had signed up (web chat) and consented before the first prompt."""
        identity = (
            await self.session.scalars(
                select(ChannelIdentity)
                .where(ChannelIdentity.person_id == person.id, ChannelIdentity.status == "active")
                .order_by(ChannelIdentity.preferred.desc(), ChannelIdentity.id)
                .limit(1)
            )
        ).first()
        if identity is None:
            identity = ChannelIdentity(
                person_id=person.id,
                channel="webchat",
                external_id=identity_key(new_token()),
                linked_at=first_slot - timedelta(days=1),
            )
            self.session.add(identity)
        consented = await self.session.scalar(
            select(ConsentRecord.id).where(ConsentRecord.person_id == person.id).limit(1)
        )
        if consented is None:
            await record_consent(
                self.session, person, channel="webchat", now=first_slot - timedelta(days=1)
            )
        await self.session.flush()
        return identity

    async def project(self, project: Project, weeks: int) -> None:
        cadence = Cadence.model_validate(project.cadence or {})
        phases = [phase for cycle in project.cycles for phase in cycle.phases]
        questions = [rq for rq in project.research_questions if rq.active]
        themes = sorted({str(t) for rq in questions for t in rq.themes or []})
        members = [
            m.person
            for m in project.memberships
            if m.role == "participant" and m.active and m.person.active
        ]
        for person in members:
            if person.withdrawn_at is not None:
                continue
            pattern = working_pattern(person, project.partnership.timezone)
            seed = f"{person.key}:{project.slug}"
            slots = [
                slot
                for monday in _weeks_back(self.now, pattern, weeks)
                for slot in _slots(cadence, pattern, monday, seed)
                if slot + timedelta(hours=cadence.answer_window_hours) < self.now
                and _phase_on(phases, slot.astimezone(pattern.zone).date()) is not None
            ]
            if not slots:
                continue
            identity = await self.participant(person, slots[0])
            taken = set(
                await self.session.scalars(
                    select(Delivery.slot).where(
                        Delivery.person_id == person.id, Delivery.project_id == project.id
                    )
                )
            )
            recent: list[str] = []
            quotes: dict[str, str] = {}
            # someone who shares with the team by name answers their first prompt of each week,
            # so that every lead's digest has something in it
            anchor = person.default_audience == "team"
            weeks_answered: set[date] = set()
            weeks_shared: set[date] = set()  # weeks with a written answer
            first_slot: dict[date, tuple[datetime, Phase]] = {}
            timeline: list[tuple[datetime, str]] = []
            events = await self.events(project)
            for slot in slots:
                day = slot.astimezone(pattern.zone).date()
                monday = day - timedelta(days=day.weekday())
                must_answer = anchor and monday not in weeks_answered
                weeks_answered.add(monday)
                phase = _phase_on(phases, day)
                assert phase is not None
                chosen = context_prompt(
                    self.library, events, day, timeline, questions, f"{seed}:{slot}"
                ) or self.library.choose(
                    phase.key, questions, themes, recent, quotes, seed=f"{seed}:{slot}"
                )
                recent.insert(0, chosen.key)
                timeline.append((slot, chosen.key))
                if slot in taken:
                    continue
                text = await self.delivery(
                    person,
                    project,
                    identity,
                    phase,
                    slot,
                    chosen,
                    cadence,
                    pattern,
                    questions,
                    must_answer=must_answer,
                )
                if text:
                    quotes[chosen.key] = text
                if text and chosen.kind not in ("scale", "choice"):
                    weeks_shared.add(monday)
                first_slot.setdefault(monday, (slot, phase))
            if anchor:
                for monday, (slot, phase) in first_slot.items():
                    if monday not in weeks_shared:
                        await self.team_note(person, project, slot, phase, pattern)
            await self.note(person, project, slots, pattern)

    async def events(self, project: Project) -> list[EventWindow]:
        """The events the project takes part in: the planner asks context prompts before them."""
        rows = await self.session.execute(
            select(Event.key, Event.name, Event.starts_on)
            .join(EventProject, EventProject.event_id == Event.id)
            .where(EventProject.project_id == project.id, Event.active.is_(True))
        )
        return [EventWindow(key, name, starts_on) for key, name, starts_on in rows.all()]

    async def delivery(
        self,
        person: Person,
        project: Project,
        identity: ChannelIdentity,
        phase: Phase,
        slot: datetime,
        chosen: ChosenPrompt,
        cadence: Cadence,
        pattern: WorkingPattern,
        questions: list[Any],
        *,
        must_answer: bool = False,
    ) -> str | None:
        rng = random.Random(f"{person.key}:{project.slug}:{slot.isoformat()}")
        keenness = random.Random(person.key).uniform(0.45, 0.9)
        expiry = expires_at(slot, cadence)
        remind = reminder_at(slot, cadence, pattern)
        rq_ids = {rq.key: rq.id for rq in questions}
        delivery = Delivery(
            **delivery_values(person.id, project.id, slot, phase, chosen, rq_ids),
            identity_id=identity.id,
            attempts=1,
            message_ref=f"webchat:seed-{person.id}-{int(slot.timestamp())}",
            sent_at=slot,
            expires_at=expiry,
            remind_at=remind,
            created_at=slot - timedelta(days=1),
            updated_at=slot,
        )
        roll = 0.0 if must_answer else rng.random()
        reminded = remind is not None and (roll >= keenness * 0.7)
        if reminded and remind is not None:
            delivery.reminded_at = remind
            delivery.reminder_ref = f"{delivery.message_ref}r"
        self.session.add(delivery)
        self.report.deliveries += 1
        if roll < keenness:
            start = remind if reminded and remind is not None else slot
            answered_at = self.at_work(
                start + timedelta(minutes=rng.randrange(3, 240)), pattern, start, expiry
            )
            delivery.status, delivery.answered_at = "answered", answered_at
            await self.session.flush()
            return await self.reflection(
                rng, person, project, delivery, chosen, answered_at, keep_audience=must_answer
            )
        if roll < keenness + 0.07:
            delivery.status, delivery.skipped_at = "skipped", slot + timedelta(minutes=25)
            delivery.reminded_at = delivery.reminder_ref = None
        else:
            delivery.status, delivery.expired_at = "expired", expiry
        return None


def _phase_on(phases: list[Phase], day: date) -> Phase | None:
    return next((p for p in phases if p.starts_on <= day <= p.ends_on), None)


async def seed_demo(services: Services, now: datetime, *, weeks: int = 6) -> SeedReport:
    """Fill the ``weeks`` before ``now`` with made-up prompts and answers; safe to repeat."""
    if now.tzinfo is None:
        raise ValueError("seed_demo needs a timezone-aware now")
    now = now.astimezone(UTC)
    async with transaction(services.sessions) as session:
        seeder = _Seeder(services, session, now)
        await seeder.setup()
        projects = await session.scalars(
            select(Project)
            .where(Project.active.is_(True))
            .order_by(Project.id)
            .options(
                selectinload(Project.partnership),
                selectinload(Project.research_questions),
                selectinload(Project.cycles).selectinload(Cycle.phases),
                selectinload(Project.memberships).selectinload(Membership.person),
            )
        )
        for project in list(projects):
            await seeder.project(project, weeks)
        evaluated = await seed_evaluations(session, now, services.settings.default_timezone)
        seeder.report.deliveries += evaluated
        seeder.report.reflections += evaluated
    log.info("demo seeded: %s", seeder.report, extra={"action": "demo.seed"})
    return seeder.report
