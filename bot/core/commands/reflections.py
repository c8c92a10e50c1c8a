"""The commands about what a person has sent: note, edit, undo and audience (who may see it)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from bot.core import texts
from bot.core.answers import save_note
from bot.core.evidence import unused_paths
from bot.core.matching import AnswerFields
from bot.core.parsing import AUDIENCE_WORDS
from bot.core.people import too_small_for_anonymity
from bot.core.turn import Turn
from bot.engine.deliveries import move
from prompts.choices import reflection_label
from storage.models import AUDIENCES, OPEN_STATUSES, Attachment, Coding, Delivery, Memo, Reflection

EDIT_WINDOW = timedelta(hours=24)
UNDO_WINDOW = timedelta(hours=24)


async def cmd_note(turn: Turn, args: str) -> None:
    if not args and not turn.message.attachments:
        turn.say("Type your note after the word: for example 'note The drop-in was busier'.")
        return
    kind = "evidence" if turn.message.attachments and not args else "note"
    await save_note(turn, AnswerFields(kind, text=args), kind=kind)


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
