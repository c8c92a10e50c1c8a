"""The commands a person can send: help, note, pause, resume, snooze, skip, edit, undo,
audience, status, my data, my time and stop. Each is a step on an open transaction (a
:class:`Turn`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, select

from adapters.errors import NoSuchDate
from bot.core import texts
from bot.core.answers import save_note
from bot.core.evidence import unused_paths
from bot.core.matching import AnswerFields, newest_open
from bot.core.onboarding import withdraw_consent
from bot.core.parsing import AUDIENCE_WORDS, parse_pause
from bot.core.people import person_zone, too_small_for_anonymity
from bot.core.turn import Turn
from bot.engine.deliveries import move
from bot.privacy.held import held_counts, my_data_text
from digests.timespent import Spent, person_spent
from prompts.choices import reflection_label
from prompts.schedule import snooze_until, working_pattern
from prompts.timecost import minutes
from storage.models import (
    AUDIENCES,
    OPEN_STATUSES,
    Attachment,
    Coding,
    ConsentRecord,
    Delivery,
    Memo,
    Reflection,
)

log = logging.getLogger(__name__)

EDIT_WINDOW = timedelta(hours=24)
UNDO_WINDOW = timedelta(hours=24)


async def _zone_key(turn: Turn) -> str:
    zone = await person_zone(turn.session, turn.person, turn.services.settings.default_timezone)
    return zone.key


async def _local_today(turn: Turn) -> date:
    zone = await person_zone(turn.session, turn.person, turn.services.settings.default_timezone)
    return turn.now.astimezone(zone).date()


async def cmd_help(turn: Turn, _args: str) -> None:
    turn.outcome = "help"
    turn.say(texts.HELP)


async def cmd_note(turn: Turn, args: str) -> None:
    if not args and not turn.message.attachments:
        turn.say("Type your note after the word: for example 'note The drop-in was busier'.")
        return
    kind = "evidence" if turn.message.attachments and not args else "note"
    await save_note(turn, AnswerFields(kind, text=args), kind=kind)


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
    zone = await person_zone(turn.session, turn.person, turn.services.settings.default_timezone)
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
        zone = await person_zone(turn.session, turn.person, turn.services.settings.default_timezone)
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


async def _last_reflection(turn: Turn, window: timedelta) -> Reflection | None:
    return await turn.session.scalar(
        select(Reflection)
        .where(Reflection.person_id == turn.person.id, Reflection.created_at >= turn.now - window)
        .order_by(Reflection.created_at.desc(), Reflection.id.desc())
        .limit(1)
    )


async def cmd_edit(turn: Turn, args: str) -> None:
    if not args:
        turn.say("Type the new wording after the word: for example 'edit We met twice, not once'.")
        return
    reflection = await _last_reflection(turn, EDIT_WINDOW)
    if reflection is None:
        turn.say("You have no answer from the last 24 hours to edit.")
        return
    if reflection.kind == "scale" and args.strip() in {"1", "2", "3", "4", "5"}:
        reflection.scale_value = int(args.strip())
    else:
        reflection.text = args
    reflection.edited_at = turn.now
    reflection.updated_at = turn.now
    turn.outcome = "edited"
    turn.say("Updated your last answer.")


async def cmd_undo(turn: Turn, _args: str) -> None:
    reflection = await _last_reflection(turn, UNDO_WINDOW)
    if reflection is None:
        turn.say("You have no answer from the last 24 hours to take back.")
        return
    session = turn.session
    removed = list(
        await session.scalars(select(Attachment).where(Attachment.reflection_id == reflection.id))
    )
    delivery = (
        await session.get(Delivery, reflection.delivery_id) if reflection.delivery_id else None
    )
    what = texts.removed_parts(
        reflection.kind,
        reflection_label(reflection, delivery.prompt_options if delivery else None),
        reflection.text or "",
        [(a.kind, a.filename) for a in removed],
    )
    others = 0
    if delivery is not None:
        others = (
            await session.scalar(
                select(func.count())
                .select_from(Reflection)
                .where(Reflection.delivery_id == delivery.id, Reflection.id != reflection.id)
            )
            or 0
        )
    reopened: str | None = None
    if delivery is not None and not others and delivery.status == "answered":
        # open again (or expired, if its window has passed), unless it changed meanwhile
        reopened = _reopened_status(turn, delivery)
        values = {"answered_at": None}
        if not await move(
            session, delivery, reopened, "undone", turn.now, expected_from="answered", values=values
        ):
            turn.outcome = "refused"
            turn.say(texts.UNDO_RACED)
            return
    await session.execute(delete(Coding).where(Coding.reflection_id == reflection.id))
    await session.execute(delete(Memo).where(Memo.reflection_id == reflection.id))
    await session.delete(reflection)
    await session.flush()
    turn.files_to_unlink.extend(await unused_paths(session, removed))
    if reflection.text:
        turn.forget_in_outbox.append(reflection.text)
    turn.forget_evidence.extend((a.path, a.sha256) for a in removed)
    state = await turn.state()
    if state is not None and state.state in ("which_project", "follow_up"):
        await turn.clear_state()
    turn.outcome = "undone"
    if delivery is None:
        turn.say(texts.undone_note(what))
        return
    if others:
        turn.say(texts.undone_addition(what, delivery.prompt_text))
        return
    status = reopened or delivery.status
    turn.say(texts.undone_answer(what, delivery.prompt_text, status in OPEN_STATUSES))


def _reopened_status(turn: Turn, delivery: Delivery) -> str:
    """Where an answered prompt goes when its last reflection is taken back."""
    if delivery.expires_at is not None and delivery.expires_at <= turn.now:
        return "expired"
    return "reminded" if delivery.reminded_at else "sent"


async def cmd_audience(turn: Turn, args: str) -> None:
    words = args.lower().replace(",", " ").split()
    last = "last" in words
    chosen = next((AUDIENCE_WORDS[w] for w in words if w in AUDIENCE_WORDS), None)
    if chosen is None and words:
        turn.say(
            "Who should see it? Send 'audience private', 'audience researchers', "
            "'audience team_anonymous' or 'audience team' (add 'last' for just your last answer)."
        )
        return
    if chosen is None:
        latest = await _last_reflection(turn, timedelta(days=3650))
        default = turn.person.default_audience
        lines = [
            f"New answers are visible to: {texts.AUDIENCE_LABELS[default]}." if default else "",
            f"Your last answer is visible to: {texts.AUDIENCE_LABELS[latest.audience]}."
            if latest
            else "",
            "Tap to change who can see your last answer, or send e.g. 'audience team' to "
            "change your default.",
        ]
        small = await too_small_for_anonymity(turn.session, turn.person)
        if small:
            lines.append(texts.small_team([project.name for project in small]))
        choices = texts.audience_choices(last=latest is not None)
        turn.say("\n".join(line for line in lines if line), choices)
        return
    await set_audience(turn, chosen, last=last)


async def set_audience(turn: Turn, audience: str, *, last: bool) -> None:
    if audience not in AUDIENCES:
        turn.say("I don't know that audience.")
        return
    label = texts.AUDIENCE_LABELS[audience]
    warning = ""
    if audience == "team_anonymous":
        small = await too_small_for_anonymity(turn.session, turn.person)
        warning = f"\n\n{texts.small_team([p.name for p in small])}" if small else ""
    if last:
        reflection = await _last_reflection(turn, timedelta(days=3650))
        if reflection is None:
            turn.say("You haven't sent an answer yet.")
            return
        reflection.audience = audience
        reflection.updated_at = turn.now
        turn.outcome = "audience_last"
        turn.say(f"Your last answer is now visible to: {label}.{warning}")
        return
    turn.person.default_audience = audience
    turn.outcome = "audience_default"
    turn.say(f"From now on your answers are visible to: {label}. Send 'help' any time.{warning}")


async def cmd_status(turn: Turn, _args: str) -> None:
    zone = await person_zone(turn.session, turn.person, turn.services.settings.default_timezone)
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
    zone = await person_zone(turn.session, turn.person, turn.services.settings.default_timezone)
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


Command = Callable[[Turn, str], Awaitable[None]]

COMMANDS: dict[str, Command] = {
    "help": cmd_help,
    "note": cmd_note,
    "pause": cmd_pause,
    "resume": cmd_resume,
    "snooze": cmd_snooze,
    "skip": cmd_skip,
    "edit": cmd_edit,
    "undo": cmd_undo,
    "audience": cmd_audience,
    "status": cmd_status,
    "stop": cmd_stop,
    "mydata": cmd_my_data,
    "time": cmd_time,
    # the words a consent text may use for leaving
    **dict.fromkeys(("withdraw", "leave", "quit", "unsubscribe", "optout", "opt-out"), cmd_stop),
}
STOP_WORDS = frozenset(name for name, command in COMMANDS.items() if command is cmd_stop)


async def run_command(turn: Turn, name: str, args: str) -> None:
    command = COMMANDS.get(name)
    if command is None:
        turn.outcome = "unknown_command"
        log.info("unknown command from identity %s", turn.identity.id, extra={"action": "unknown"})
        turn.say(texts.UNKNOWN_COMMAND.format(command=name[:40]))
        return
    await command(turn, args)
    log.info("ran the %s command", name, extra={"action": f"command:{name}"})
