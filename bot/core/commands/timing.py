"""The commands about when questions come: pause, resume, snooze and skip."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from adapters.errors import NoSuchDate
from bot.core import texts
from bot.core.matching import newest_open
from bot.core.parsing import parse_pause
from bot.core.turn import Turn
from bot.engine.deliveries import move
from prompts.schedule import snooze_until, working_pattern
from storage.models import Delivery


async def _zone_key(turn: Turn) -> str:
    zone = await turn.zone()
    return zone.key


async def _local_today(turn: Turn) -> date:
    zone = await turn.zone()
    return turn.now.astimezone(zone).date()


async def cmd_pause(turn: Turn, args: str) -> None:
    today = await _local_today(turn)
    try:
        until = parse_pause(args, today)
    except NoSuchDate as impossible:
        turn.outcome = "refused"
        turn.say(texts.NO_SUCH_DATE.format(day=impossible.shown))
        return
    if until is None:
        turn.say("Pause until when? For example 'pause 2027-03-01' or 'pause 2 weeks'.")
        return
    if until < today:
        turn.say(f"{texts.human_date(until)} has already passed, so I haven't paused anything.")
        return
    turn.person.paused_until = until
    zone = await turn.zone()
    pattern = working_pattern(turn.person, zone.key)
    planned = await turn.session.scalars(
        select(Delivery).where(Delivery.person_id == turn.person.id, Delivery.status == "planned")
    )
    skipped = 0
    for delivery in planned:
        if delivery.due_at.astimezone(pattern.zone).date() <= until:
            skipped += await move(
                turn.session, delivery, "skipped", "paused", turn.now, expected_from="planned"
            )
    turn.outcome = "paused"
    turn.say(
        f"Paused until {texts.human_date(until)} — no questions until then"
        f"{f' ({skipped} skipped)' if skipped else ''}. Send 'resume' to start again sooner."
    )


async def cmd_resume(turn: Turn, _args: str) -> None:
    was = turn.person.paused_until
    turn.person.paused_until = None
    turn.outcome = "resumed"
    if was is None or was < await _local_today(turn):
        turn.say("You weren't paused — questions are coming as usual.")
    else:
        turn.say("Welcome back — questions will start again at your next usual time.")


async def cmd_snooze(turn: Turn, args: str) -> None:
    option = (args or "later").strip().lower()
    if option not in ("later", "tomorrow"):
        turn.say("Snooze until when? Send 'snooze later' or 'snooze tomorrow'.")
        return
    delivery = await newest_open(turn.session, turn.person, turn.now)
    if delivery is None:
        turn.say("There's no open question to snooze right now.")
        return
    pattern = working_pattern(turn.person, await _zone_key(turn))
    due = snooze_until(turn.now, "later" if option == "later" else "tomorrow", pattern)
    snoozed = await move(
        turn.session,
        delivery,
        "planned",
        "snoozed",
        turn.now,
        expected_from=(delivery.status,),
        values={"due_at": due, "snoozed": True},
    )
    if not snoozed:  # answered, expired or changed by another message meanwhile
        turn.say("That question has just closed, so there's nothing to snooze.")
        return
    turn.outcome = "snoozed"
    turn.say(f"Snoozed — I'll ask again {texts.human_time(due.astimezone(pattern.zone))}.")


async def cmd_skip(turn: Turn, _args: str) -> None:
    delivery = await newest_open(turn.session, turn.person, turn.now)
    if delivery is not None and await _skip(turn, delivery):
        turn.outcome = "skipped"
        turn.say("Skipped — no problem. Skipping never counts against you.")
        return
    upcoming = await turn.session.scalar(
        select(Delivery)
        .where(Delivery.person_id == turn.person.id, Delivery.status == "planned")
        .order_by(Delivery.due_at)
        .limit(1)
    )
    if upcoming is not None and await _skip(turn, upcoming):
        turn.outcome = "skipped"
        zone = await turn.zone()
        when = texts.human_time(upcoming.due_at.astimezone(zone))
        turn.say(f"Skipped your next question (due {when}). Skipping never counts against you.")
        return
    turn.say("There's no question to skip right now.")


async def _skip(turn: Turn, delivery: Delivery) -> bool:
    """The person's skip of one delivery, if it is still as they saw it."""
    return await move(
        turn.session,
        delivery,
        "skipped",
        "skipped_by_person",
        turn.now,
        expected_from=(delivery.status,),
    )
