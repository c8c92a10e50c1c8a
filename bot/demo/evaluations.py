"""Seeded evaluations for the demo's most recent past event, so the demo shows a summary.

For the latest event that ended before the demo's "now", every participant of a taking-part
project (once each, for their first such project) has answered the ``evaluation`` prompt set in
one sitting on the first working day after the event, a few minutes apart, in their working
hours. (The live planner asks one item per usual slot instead; seeded data makes up the past.)
Most ratings are 4 or 5, as on the retreat's forms; the comments echo what the report heard, and
the demo codebook codes them by theme. Running it again adds nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.matching import current_phase
from bot.evaluation.events import EventInfo, study_events
from bot.evaluation.plan import render_item
from bot.review.access import Viewer
from bot.review.coding import add_code, apply_code
from prompts.library import prompt_set
from prompts.schedule import is_working_day, is_working_time, local_instant, working_pattern
from storage.models import (
    ChannelIdentity,
    Delivery,
    Membership,
    Person,
    Project,
    Reflection,
)

WEIGHTS = (2, 6, 12, 45, 35)  # 1–5: about 80% scoring 4 or 5
SITTING = time(14, 0)
VALUABLE = [
    ("Research planning", "The research planning session: we left with a plan we can use."),
    ("Research planning", "Working through our research questions with the WWS team."),
    ("Meeting other areas", "Talking with people from the other CPPs about the same problems."),
    ("Meeting other areas", "Hearing how another area runs its partnership meetings."),
    ("Confidence in the inquiry", "I feel more confident about what our local inquiry is."),
    ("Confidence in the inquiry", "Seeing that an inquiry can start small."),
    ("Research planning", "Turning our questions into something we can test by spring."),
    ("Meeting other areas", "The tables mixing councils: I have two new people to call."),
    ("Confidence in the inquiry", "Knowing it is fine that our evidence is patchy for now."),
    ("Research planning", "Time away from the day job to plan the next cycle properly."),
    ("Meeting other areas", "Swapping notes on budgets with Glasgow over lunch."),
    ("Confidence in the inquiry", "I can explain our inquiry to my manager now."),
]
CHANGE = [
    ("Accessibility", "Bigger text on the slides: the right size of text for the back row."),
    ("Accessibility", "Handouts in advance, so I could read them at my own pace."),
    ("Pace", "A slower pace on day two; too much was squeezed in."),
    ("Pace", "More breaks between the table sessions."),
    ("Balance of activities", "More time at the discussion tables, less presenting."),
    ("Accessibility", "A room with better sound; I missed half of the plenary."),
    ("Pace", "Shorter plenaries, so the afternoon did not drag."),
    ("Balance of activities", "One session outdoors or walking would help."),
    ("Accessibility", "Slides shared on the day for those of us reading on screens."),
    ("Pace", "Start a bit later for those travelling from the north."),
    ("Balance of activities", "Less time in the big group, more in our own project team."),
]


def _sitting(person: Person, zone: str, event: EventInfo, now: datetime) -> datetime | None:
    """The first working moment for the evaluation after the event, before ``now``."""
    pattern = working_pattern(person, zone)
    day = event.ends_on + timedelta(days=1)
    while local_instant(day, time(0), pattern.zone) < now:
        if is_working_day(day, pattern):
            for at in (SITTING, pattern.starts):
                start = local_instant(day, at, pattern.zone)
                if at == pattern.starts:
                    start += timedelta(minutes=30)
                end = start + timedelta(minutes=30)
                if is_working_time(start, pattern) and is_working_time(end, pattern) and end < now:
                    return start
        day += timedelta(days=1)
    return None


async def seed_evaluations(session: AsyncSession, now: datetime, default_zone: str) -> int:
    """Seed the latest past event's evaluation (see the module's docstring); answers added."""
    past = [e for e in await study_events(session) if e.ends_on < now.astimezone(UTC).date()]
    if not past:
        return 0
    event = max(past, key=lambda e: e.ends_on)
    items = prompt_set("evaluation")
    keys = [item.key for item in items]
    rows = await session.execute(
        select(Membership.project_id, Person)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.project_id.in_(sorted(event.project_ids)),
            Membership.role == "participant",
            Membership.active.is_(True),
            Person.active.is_(True),
            Person.withdrawn_at.is_(None),
        )
        .order_by(Person.id, Membership.project_id)
    )
    added = 0
    seen: set[int] = set()
    for project_id, person in rows.all():
        if person.id in seen:
            continue
        seen.add(person.id)
        project = await session.get(Project, project_id)
        identity = await session.scalar(
            select(ChannelIdentity)
            .where(ChannelIdentity.person_id == person.id, ChannelIdentity.status == "active")
            .order_by(ChannelIdentity.id)
            .limit(1)
        )
        if project is None or identity is None:
            continue  # never prompted (not signed up): no evaluation either
        zone = person.timezone or default_zone
        start = _sitting(person, zone, event, now)
        asked = await session.scalar(
            select(Delivery.id).where(
                Delivery.person_id == person.id, Delivery.prompt_key.in_(keys)
            )
        )
        if start is None or asked is not None:
            continue
        added += await _one_person(session, person, project, identity, event, start, zone)
    return added


async def _one_person(
    session: AsyncSession,
    person: Person,
    project: Project,
    identity: ChannelIdentity,
    event: EventInfo,
    start: datetime,
    zone_name: str,
) -> int:
    rng = random.Random(f"evaluation:{event.key}:{person.key}")
    audience = person.default_audience or project.default_audience
    if rng.random() < 0.1:
        audience = "private"
    taken = set(await session.scalars(select(Delivery.slot).where(Delivery.person_id == person.id)))
    zone = working_pattern(person, zone_name).zone
    cycle, phase = await current_phase(session, project, start.astimezone(zone).date())
    added = 0
    for n, item in enumerate(prompt_set("evaluation")):
        slot = start + timedelta(minutes=4 * n)
        if slot in taken or rng.random() < 0.08:  # now and then an item is skipped
            continue
        chosen = render_item(item, event)
        answered_at = slot + timedelta(seconds=rng.randrange(15, 200))
        delivery = Delivery(
            person_id=person.id, project_id=project.id, slot=slot, due_at=slot,
            cycle_id=cycle.id if cycle else None, phase_id=phase.id if phase else None,
            prompt_key=chosen.key, prompt_kind=chosen.kind, prompt_text=chosen.text,
            prompt_options=chosen.options, status="answered", identity_id=identity.id,
            attempts=1, message_ref=f"webchat:seed-eval-{person.id}-{n}", sent_at=slot,
            answered_at=answered_at, expires_at=slot + timedelta(hours=48),
            created_at=slot - timedelta(days=1), updated_at=answered_at,
        )  # fmt: skip
        session.add(delivery)
        await session.flush()
        reflection = Reflection(
            person_id=person.id, project_id=project.id, delivery_id=delivery.id,
            cycle_id=delivery.cycle_id, phase_id=delivery.phase_id, kind=chosen.kind,
            audience=audience, channel=identity.channel, identity_id=identity.id,
            created_at=answered_at, updated_at=answered_at,
        )  # fmt: skip
        if chosen.kind == "scale":
            reflection.scale_value = rng.choices(range(1, 6), weights=WEIGHTS)[0]
        else:
            _, reflection.text = rng.choice(
                VALUABLE if chosen.key == "evaluation-valuable" else CHANGE
            )
        session.add(reflection)
        await session.flush()
        added += 1
    return added


THEMES_PARENT = ("Retreat evaluation", "#5e548e", "Themes in the comments on a retreat's forms.")
THEME_COLOURS = ("#9f86c0", "#be95c4", "#e0b1cb", "#7b6d8d", "#b8b8d1", "#8e7dbe")


async def code_evaluation_comments(
    session: AsyncSession, viewer: Viewer, at: datetime | None = None
) -> int:
    """Code the seeded evaluation comments by theme (under "Retreat evaluation" in the demo
    codebook, which :func:`bot.demo.codebook.seed_codebook` calls this to add); returns how many
    codings were made."""
    themes = dict((text, theme) for theme, text in (*VALUABLE, *CHANGE))
    rows = list(
        await session.scalars(
            select(Reflection)
            .join(Delivery, Delivery.id == Reflection.delivery_id)
            .where(Delivery.prompt_key.in_(("evaluation-valuable", "evaluation-change")))
            .order_by(Reflection.id)
        )
    )
    wanted = [r for r in rows if r.text in themes]
    if not wanted:
        return 0
    name, colour, description = THEMES_PARENT
    parent = await add_code(session, viewer, name, color=colour, description=description)
    codes: dict[str, int] = {}
    for n, theme in enumerate(dict.fromkeys(themes.values())):
        code = await add_code(
            session, viewer, theme, parent_id=parent.id, color=THEME_COLOURS[n % 6]
        )
        codes[theme] = code.id
    for reflection in wanted:
        coding = await apply_code(session, viewer, reflection, codes[themes[reflection.text]])
        coding.created_at = at or coding.created_at
    return len(wanted)
