"""The demo seeder's answers: what each made-up participant said to a seeded prompt — a rating,
a choice, words, a photo or voice note — and the odd note of their own, at a time they were at
work (moved from :mod:`bot.demo.seed`, whose seeder writes them through this base class)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import InboundAttachment
from bot.core.evidence import store_files
from bot.demo import answers
from bot.demo.media import photo_png, voice_wav
from bot.services import Services
from prompts.library import ChosenPrompt, Library
from prompts.schedule import WorkingPattern, is_working_time, next_working_moment
from storage.models import AUDIENCES, Delivery, Person, Phase, Project, Reflection

MAX_EVIDENCE_FILES = 12
SCALE_WEIGHTS = (5, 15, 35, 33, 12)


@dataclass
class SeedReport:
    deliveries: int = 0
    reflections: int = 0
    files: int = 0
    codings: int | None = None  # set once the demo codebook is seeded

    def __str__(self) -> str:
        coded = "" if self.codings is None else f", {self.codings} codings"
        return (
            f"{self.deliveries} deliveries, {self.reflections} reflections, "
            f"{self.files} evidence files{coded}"
        )


class AnswerWriter:
    """What the seeder needs to write answers; :class:`bot.demo.seed._Seeder` sets it up."""

    services: Services
    session: AsyncSession
    now: datetime
    report: SeedReport
    files: int
    library: Library

    def at_work(
        self, moment: datetime, pattern: WorkingPattern, start: datetime, before: datetime
    ) -> datetime:
        """``moment``, or the start of the person's next working period when it falls outside
        their hours; ``start`` (a working moment) when that would be too late."""
        working = next_working_moment(moment, pattern)
        if working is not None and working != moment:
            # not everyone answers on the dot when they start work
            later = working + timedelta(minutes=7 + moment.minute % 41)
            working = later if is_working_time(later, pattern) else working
        if working is None or working >= min(before, self.now):
            return start + timedelta(minutes=1)
        return working

    async def reflection(
        self,
        rng: random.Random,
        person: Person,
        project: Project,
        delivery: Delivery,
        chosen: ChosenPrompt,
        at: datetime,
        *,
        keep_audience: bool = False,
    ) -> str | None:
        audience = person.default_audience or project.default_audience
        if rng.random() < 0.3 and not keep_audience:
            audience = rng.choice(AUDIENCES)
        reflection = Reflection(
            person_id=person.id,
            project_id=project.id,
            delivery_id=delivery.id,
            cycle_id=delivery.cycle_id,
            phase_id=delivery.phase_id,
            research_question_id=delivery.research_question_id,
            kind=chosen.kind,
            audience=audience,
            channel="webchat",
            identity_id=delivery.identity_id,
            created_at=at,
            updated_at=at,
        )
        phase = await self.session.get(Phase, delivery.phase_id)
        phase_key = phase.key if phase else None
        if chosen.kind == "scale":
            value = rng.choices(range(1, 6), weights=SCALE_WEIGHTS)[0]
            reflection.scale_value = value
            reflection.text = answers.scale_comment(rng, value)
        elif chosen.kind == "choice" and chosen.options:
            reflection.choice = rng.choice(chosen.options)["value"]
        elif chosen.kind == "evidence" and self.files < MAX_EVIDENCE_FILES:
            voice = "voice" in chosen.evidence and (
                "photo" not in chosen.evidence or rng.random() < 0.3
            )
            data = voice_wav(f"{person.key}{at}") if voice else photo_png(f"{person.key}{at}")
            attachment = InboundAttachment(
                kind="voice" if voice else "photo",
                filename="voice-note.wav" if voice else "photo.png",
                content_type="audio/wav" if voice else "image/png",
                data=data,
            )
            rows = await store_files(self.services.settings.data_dir, (attachment,), at)
            reflection.attachments.extend(rows)
            reflection.text = rng.choice(answers.VOICE_CAPTIONS if voice else answers.CAPTIONS)
            self.files += 1
            self.report.files += 1
        else:
            reflection.kind = "text"
            topic = self.library.context_topics().get(chosen.key)
            reflection.text = (
                answers.context_answer(rng, project.slug, topic)
                if topic
                else answers.text_answer(rng, project.slug, phase_key)
            )
        self.session.add(reflection)
        self.report.reflections += 1
        return reflection.text or None

    async def team_note(
        self,
        person: Person,
        project: Project,
        slot: datetime,
        phase: Phase,
        pattern: WorkingPattern,
    ) -> None:
        """A note shared with the team by name, in a week when the prompts were all ratings."""
        at = self.at_work(slot + timedelta(minutes=75), pattern, slot, slot + timedelta(days=7))
        if at >= self.now:
            return
        exists = await self.session.scalar(
            select(Reflection.id).where(
                Reflection.person_id == person.id,
                Reflection.project_id == project.id,
                Reflection.kind == "note",
                Reflection.created_at == at,
            )
        )
        if exists is not None:
            return
        rng = random.Random(f"team-note:{person.key}:{project.slug}:{slot.isoformat()}")
        self.session.add(
            Reflection(
                person_id=person.id,
                project_id=project.id,
                cycle_id=phase.cycle_id,
                phase_id=phase.id,
                kind="note",
                text=answers.text_answer(rng, project.slug, phase.key),
                audience="team",
                channel="webchat",
                created_at=at,
                updated_at=at,
            )
        )
        self.report.reflections += 1

    async def note(
        self, person: Person, project: Project, slots: list[datetime], pattern: WorkingPattern
    ) -> None:
        rng = random.Random(f"note:{person.key}:{project.slug}")
        if rng.random() > 0.35:
            return
        slot = slots[rng.randrange(len(slots))]
        later = slot + timedelta(hours=2, minutes=rng.randrange(60))
        at = self.at_work(later, pattern, slot, slot + timedelta(days=7))
        exists = await self.session.scalar(
            select(Reflection.id).where(
                Reflection.person_id == person.id,
                Reflection.kind == "note",
                Reflection.created_at == at,
            )
        )
        if exists is not None:
            return
        self.session.add(
            Reflection(
                person_id=person.id,
                project_id=project.id,
                kind="note",
                text=rng.choice(answers.NOTES),
                audience="private" if rng.random() < 0.5 else project.default_audience,
                channel="webchat",
                created_at=at,
                updated_at=at,
            )
        )
        self.report.reflections += 1
