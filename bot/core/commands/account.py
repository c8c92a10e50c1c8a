"""The commands about a person's place in the study: help, status, my time, my data and stop."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from bot.core import texts
from bot.core.matching import newest_open
from bot.core.onboarding import withdraw_consent
from bot.core.turn import Turn
from bot.engine.deliveries import move
from bot.privacy.held import held_counts, my_data_text
from digests.timespent import Spent, person_spent
from prompts.timecost import minutes
from storage.models import OPEN_STATUSES, ConsentRecord, Delivery, Reflection


async def cmd_help(turn: Turn, _args: str) -> None:
    turn.outcome = "help"
    turn.say(texts.HELP)


async def cmd_status(turn: Turn, _args: str) -> None:
    zone = await turn.zone()
    local = turn.now.astimezone(zone)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    answers = await turn.session.scalar(
        select(func.count())
        .select_from(Reflection)
        .where(Reflection.person_id == turn.person.id, Reflection.created_at >= monday)
    )
    upcoming = await turn.session.scalar(
        select(Delivery.due_at)
        .where(Delivery.person_id == turn.person.id, Delivery.status == "planned")
        .order_by(Delivery.due_at)
        .limit(1)
    )
    lines = []
    if turn.person.paused_until and turn.person.paused_until >= local.date():
        lines.append(f"You're paused until {texts.human_date(turn.person.paused_until)}.")
    if await newest_open(turn.session, turn.person, turn.now) is not None:
        lines.append("You have a question waiting for an answer.")
    if upcoming is not None:
        lines.append(f"Your next question is due {texts.human_time(upcoming.astimezone(zone))}.")
    else:
        lines.append("No question is planned for you just now.")
    lines.append(f"Answers this week: {answers or 0}.")
    month = await person_spent(
        turn.session,
        turn.person.id,
        local.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
    )
    lines.append(f"This month: {time_summary(month)}.")
    turn.outcome = "status"
    turn.say("\n".join(lines))


def time_summary(spent: Spent) -> str:
    """ "6 questions, about 9 minutes" (estimated as the README's "Time spent" says)."""
    questions = f"{spent.questions} question{'' if spent.questions == 1 else 's'}"
    if not spent.questions:
        return questions
    count = minutes(spent.seconds)
    return f"{questions}, about {count} minute{'' if count == 1 else 's'}"


async def cmd_time(turn: Turn, _args: str) -> None:
    """One line a person can show a manager: since they joined, questions and minutes."""
    zone = await turn.zone()
    joined = await turn.session.scalar(
        select(func.min(ConsentRecord.given_at)).where(ConsentRecord.person_id == turn.person.id)
    )
    since = joined or turn.person.created_at
    day = since.astimezone(zone).date()
    start = datetime.combine(day, time(0), tzinfo=zone)
    spent = await person_spent(turn.session, turn.person.id, start)
    turn.outcome = "time"
    turn.say(
        f"Since {day.day} {day:%B %Y}: {time_summary(spent)}. (Estimated from when each "
        "question reached you and how long your answers were; at most 10 minutes each.)"
    )


async def cmd_my_data(turn: Turn, _args: str) -> None:
    counts = await held_counts(turn.session, turn.person)
    turn.outcome = "my_data"
    turn.say(my_data_text(turn.person, counts))


async def cmd_stop(turn: Turn, _args: str) -> None:
    await withdraw_consent(turn.session, turn.person, turn.now)
    pending = await turn.session.scalars(
        select(Delivery).where(
            Delivery.person_id == turn.person.id,
            Delivery.status.in_(("planned", *OPEN_STATUSES)),
        )
    )
    for delivery in pending:
        await move(turn.session, delivery, "skipped", "withdrawn", turn.now)
    await turn.clear_state()
    turn.outcome = "withdrawn"
    turn.say(texts.WITHDRAWAL, texts.withdrawal_choices())
