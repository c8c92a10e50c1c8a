"""Storing what a person said: answers to prompts, follow-ups, ad-hoc notes, digest feedback."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from adapters.base import Answered
from bot.core import texts
from bot.core.evidence import store_files
from bot.core.matching import (
    FOLLOW_UP_WINDOW,
    AnswerFields,
    Match,
    answer_fields,
    current_phase,
    mark_answered,
    match_delivery,
)
from bot.core.people import active_projects, default_audience
from bot.core.turn import Turn
from storage.models import Delivery, Digest, Phase, Project, Reflection

log = logging.getLogger(__name__)


def where(project: Project | None, phase: Phase | None) -> str:
    if project is None:
        return "your notes"
    return f"{project.name} · {phase.name}" if phase is not None else project.name


async def new_reflection(
    turn: Turn,
    fields: AnswerFields,
    *,
    project: Project | None,
    delivery: Delivery | None = None,
    kind: str | None = None,
) -> Reflection:
    """A reflection with its context and audience, its files stored, flushed (not committed)."""
    reflection = Reflection(
        person_id=turn.person.id,
        project_id=project.id if project is not None else None,
        delivery_id=delivery.id if delivery is not None else None,
        cycle_id=delivery.cycle_id if delivery is not None else None,
        phase_id=delivery.phase_id if delivery is not None else None,
        research_question_id=delivery.research_question_id if delivery is not None else None,
        kind=kind or fields.kind,
        text=fields.text,
        scale_value=fields.scale_value,
        choice=fields.choice,
        audience=await default_audience(turn.session, turn.person, project),
        channel=turn.message.channel,
        identity_id=turn.identity.id,
        created_at=turn.now,
        updated_at=turn.now,
    )
    if delivery is None and project is not None:
        zone = await turn.zone()
        cycle, phase = await current_phase(turn.session, project, turn.now.astimezone(zone).date())
        reflection.cycle_id = cycle.id if cycle is not None else None
        reflection.phase_id = phase.id if phase is not None else None
    if turn.message.attachments:
        reflection.attachments = await store_files(
            turn.services.settings.data_dir, turn.message.attachments, turn.now
        )
    turn.session.add(reflection)
    await turn.session.flush()
    return reflection


async def handle_answer(turn: Turn) -> None:
    """Match the message to a delivery (or make it a note) and store it."""
    state = await turn.state()
    follow_up_id: int | None = None
    if state is not None and state.state == "follow_up":
        until = datetime.fromisoformat(str(state.data.get("until")))
        if until > turn.now:
            follow_up_id = int(state.data["delivery_id"])
    explicit = turn.message.delivery_id is not None or bool(turn.message.reply_to)
    if state is not None and state.state == "heard_missing" and not explicit:
        await save_feedback(turn, int(state.data["digest_id"]), turn.message.text or "")
        return
    match = await match_delivery(
        turn.session, turn.person, turn.message, turn.now, follow_up_delivery_id=follow_up_id
    )
    if match.how == "refused":
        log.warning(
            "refused an answer from person %s to delivery %s (not theirs, or not open)",
            turn.person.id,
            turn.message.delivery_id,
            extra={"action": "refused"},
        )
        turn.outcome = "refused"
        turn.say(texts.FORGED_DELIVERY)
        return
    fields = answer_fields(turn.message, match.delivery)
    if fields is None:
        turn.outcome = "empty"
        turn.say(texts.EMPTY)
        return
    if match.delivery is None:
        await save_note(turn, fields)
    else:
        await save_answer(turn, match, fields)


async def save_answer(turn: Turn, match: Match, fields: AnswerFields) -> None:
    delivery = match.delivery
    assert delivery is not None
    follow_up = match.how == "follow_up"
    if not follow_up and not await mark_answered(turn.session, delivery, turn.now):
        turn.outcome = "refused"
        turn.say(texts.FORGED_DELIVERY)
        return
    project = await turn.session.get(Project, delivery.project_id)
    phase = await turn.session.get(Phase, delivery.phase_id) if delivery.phase_id else None
    reflection = await new_reflection(turn, fields, project=project, delivery=delivery)
    turn.outcome = "follow_up" if follow_up else "answered"
    lead = "Added to your answer — " if follow_up else ""
    saved = texts.saved(where(project, phase), reflection.audience)
    if follow_up:
        turn.say(f"{lead}{saved[len('Saved to ') :]}")
    else:
        refs = tuple(ref for ref in (delivery.message_ref, delivery.reminder_ref) if ref)
        turn.answered = Answered(delivery.id, refs, fields.label, delivery.prompt_text)
        extra = f" {texts.FOLLOW_UP}" if fields.kind in ("scale", "choice") else ""
        turn.say(saved + extra)
    until = turn.now + FOLLOW_UP_WINDOW
    await turn.set_state("follow_up", {"delivery_id": delivery.id, "until": until.isoformat()})
    log.info(
        "stored a %s reflection for delivery %s",
        reflection.kind,
        delivery.id,
        extra={"action": turn.outcome},
    )


async def save_note(turn: Turn, fields: AnswerFields, kind: str | None = None) -> None:
    """An ad-hoc note: filed under the person's project, or asked about when they have several."""
    projects = await active_projects(turn.session, turn.person)
    project = projects[0] if len(projects) == 1 else None
    note_kind = kind or ("evidence" if fields.kind == "evidence" else "note")
    reflection = await new_reflection(turn, fields, project=project, kind=note_kind)
    turn.outcome = "note"
    if len(projects) > 1:
        await turn.set_state("which_project", {"reflection_id": reflection.id})
        choices = texts.project_choices([(p.slug, p.name) for p in projects])
        turn.say(f"Saved. {texts.WHICH_PROJECT}", choices)
        return
    await turn.clear_state()
    phase = await turn.session.get(Phase, reflection.phase_id) if reflection.phase_id else None
    turn.say(texts.saved(where(project, phase), reflection.audience))


async def file_note(turn: Turn, slug: str) -> None:
    """The person tapped which project their last note is about."""
    state = await turn.state()
    projects = {p.slug: p for p in await active_projects(turn.session, turn.person)}
    project = projects.get(slug)
    if state is None or state.state != "which_project" or project is None:
        turn.outcome = "refused"
        turn.say(texts.NOT_YOUR_PROJECT)
        return
    reflection = await turn.session.get(Reflection, int(state.data["reflection_id"]))
    if reflection is None or reflection.person_id != turn.person.id:
        await turn.clear_state()
        turn.say(texts.NOT_YOUR_PROJECT)
        return
    reflection.project_id = project.id
    zone = await turn.zone()
    cycle, phase = await current_phase(
        turn.session, project, reflection.created_at.astimezone(zone).date()
    )
    reflection.cycle_id = cycle.id if cycle is not None else None
    reflection.phase_id = phase.id if phase is not None else None
    if turn.person.default_audience is None:
        reflection.audience = await default_audience(turn.session, turn.person, project)
    reflection.updated_at = turn.now
    await turn.clear_state()
    turn.outcome = "filed"
    turn.say(texts.saved(where(project, phase), reflection.audience))


async def _digest_project(turn: Turn, digest: Digest) -> Project | None:
    if digest.scope.startswith("project:"):
        slug = digest.scope.split(":", 1)[1]
        return await turn.session.scalar(select(Project).where(Project.slug == slug))
    return None


async def heard(turn: Turn, digest_id: int, right: bool | None) -> None:
    """A tap on a "What we heard" summary: right (stored) or not quite (ask what's missing)."""
    digest = await turn.session.get(Digest, digest_id)
    if digest is None or digest.person_id != turn.person.id or right is None:
        turn.outcome = "refused"
        turn.say(texts.HEARD_UNKNOWN)
        return
    if right:
        await save_feedback(turn, digest_id, "That's right", thanks=texts.HEARD_YES)
        return
    await turn.set_state("heard_missing", {"digest_id": digest_id})
    turn.outcome = "asked"
    turn.say(texts.WHATS_MISSING)


async def save_feedback(
    turn: Turn, digest_id: int, text: str, thanks: str = texts.HEARD_THANKS
) -> None:
    digest = await turn.session.get(Digest, digest_id)
    if digest is None or digest.person_id != turn.person.id:
        await turn.clear_state()
        turn.say(texts.HEARD_UNKNOWN)
        return
    project = await _digest_project(turn, digest)
    fields = AnswerFields("feedback", text=text.strip())
    if not fields.text and not turn.message.attachments:
        turn.say(texts.EMPTY)
        return
    reflection = await new_reflection(turn, fields, project=project)
    reflection.digest_id = digest_id
    await turn.clear_state()
    turn.outcome = "feedback"
    turn.say(thanks)
