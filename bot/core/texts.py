"""Everything the conversation core says, in one place, in plain UK English."""

from __future__ import annotations

from datetime import date, datetime

from adapters import actions
from adapters.base import Choice

AUDIENCE_LABELS = {
    "private": "only you",
    "researchers": "the researchers, without your name",
    "team_anonymous": "your team without your name",
    "team": "your team, with your name",
}
AUDIENCE_EXPLAINED = {
    "private": "Only me — kept for my own reflection, nobody else sees it.",
    "researchers": "Researchers — the university team, under a study code, never my name.",
    "team_anonymous": "Team, no name — my project lead's digest, without my name.",
    "team": "Team — my project lead's digest, with my name.",
}
AUDIENCE_SHORT = {
    "private": "Only me",
    "researchers": "Researchers",
    "team_anonymous": "Team, no name",
    "team": "Team, named",
}

DEFAULT_CONSENT_VERSION = "default-1"
DEFAULT_CONSENT_TEXT = (
    "carbot asks you a short question about your project now and then. What you answer is kept "
    "securely for this research study, with the project and phase it belongs to. You choose who "
    "may see each answer: only you, the researchers (under a study code, never your name), or "
    "your project team. Taking part is voluntary: you can skip any question, pause for leave, "
    "edit or take back an answer, and leave the study at any time by sending 'stop'."
)

HELP = (
    "Answer a question by replying to it — type, tap a button, or send a photo or file.\n"
    "Commands:\n"
    "• note TEXT — save a thought at any time\n"
    "• snooze (later / tomorrow) — ask me the current question again later\n"
    "• skip — skip the current or next question\n"
    "• pause until DATE (or 'pause 2 weeks') — no questions while you are away; resume to restart\n"
    "• edit TEXT — change your last answer; undo — take back the last thing you sent: a photo, "
    "a sentence or a whole answer (within 24 hours)\n"
    "• audience — who may see your answers\n"
    "• status — your next question and your answers this week\n"
    "• my data — what carbot holds about you\n"
    "• my time — the questions you answered and about how long they took, to show a manager\n"
    "• stop (or withdraw) — leave the study, and keep or delete what you shared"
)

UNKNOWN_SENDER = (
    "Hello! I'm carbot, the reflection assistant for a Collaborative Action Research study. "
    "I don't know you yet. To join, ask your project lead for a personal sign-up link or code, "
    "then send 'link' followed by the code. Nothing you send before then is kept."
)
BAD_CODE = (
    "That sign-up code didn't work — it may have expired or already been used. "
    "Please ask your project lead for a new one. Nothing has been kept."
)
INACTIVE_PERSON = (
    "You're no longer part of this study, so nothing you send is kept. "
    "If you think that's a mistake, please contact your project lead."
)
WITHDRAWN = (
    "You have left the study, so I'm not keeping anything you send. If you'd like to take part "
    "again, send 'start'. Send 'stop' to choose whether to keep or delete what you shared, or "
    "'my data' to see what carbot holds about you."
)
NEEDS_CONSENT = "Before I keep anything you send, please read this and choose:"
CONSENT_DECLINED = (
    "No problem — nothing you send will be kept and you won't get any questions. "
    "If you change your mind, send 'start' and I'll show this again."
)
CONSENT_GIVEN = "Thank you — that's recorded."
CONSENT_CHANGED = (
    "The study's consent terms have changed since you agreed (version {old} → {new}). Until you "
    "agree to the new version I won't send you questions or keep anything you send."
)
CONSENT_WHAT_CHANGED = "What changed:"
CONSENT_NEW_TEXT = "The terms now read:"
ANSWER_NOW = "There's a question waiting for you: answer it whenever you're ready."
LINKED = "Hello {name}, you're now connected to carbot on {channel}."
AUDIENCE_QUESTION = (
    "Who should see your answers by default? You can change it for any single answer later.\n"
    + "\n".join(f"• {text}" for text in AUDIENCE_EXPLAINED.values())
)
SMALL_TEAM = (
    "Please note: {projects} {has} fewer than 3 participants. In a team that small, "
    "'Team, no name' cannot hide who you are — your lead could tell who wrote it — so the lead's "
    "weekly digest holds such answers back. Choose 'Team, named' for answers your lead should "
    "read, or 'Researchers' to share them only with the university team."
)
READY = "All set. I'll send your first question at a sensible time. Send 'help' any time."
UNKNOWN_COMMAND = "Sorry, I don't know the command '{command}'. Send 'help' to see what I can do."
FORGED_DELIVERY = (
    "Sorry, I can't match that to one of your open questions, so nothing was saved. "
    "It may have expired or been answered already."
)
TOO_LARGE = (
    "That file is too big for me (the limit is {limit}). Nothing was saved — "
    "could you send a smaller photo or a shorter recording?"
)
TOO_LONG = (
    "That's {length:,} characters — more than I can keep in one answer (the limit is "
    "{limit:,}). Nothing was saved: could you send it again in shorter parts?"
)
NO_SUCH_DATE = (
    "There is no {day} — that date does not exist, so I haven't paused anything. "
    "Try another day, for example 'pause 1 March' or 'pause 2 weeks'."
)
EMPTY = "I didn't catch anything to save there. Send 'help' to see what I can do."
FOLLOW_UP = "Add a sentence or a photo if you like — it will be kept with this answer."
WHICH_PROJECT = "Which project is this about?"
FILED = "Filed under {project}."
NOT_YOUR_PROJECT = "That project isn't one of yours, so I've left the note where it was."
WHATS_MISSING = "What's missing? Your reply goes back to the team with the summary."
HEARD_YES = "Thanks — noted that the summary got it right."
HEARD_THANKS = "Thank you — I've passed that on with the summary."
WITHDRAWAL = (
    "You've left the study. I won't send you any more questions, from now on, and nothing you "
    "send from now on is kept.\n\n"
    "What about what you've already shared? Keep it: it stays with the research team under "
    "your study code, never your name, under the consent you gave. Or delete everything: all "
    "your answers, notes, photos and files, and everything carbot knows about you, are erased "
    "now, and this chat forgets you too."
)
KEPT = (
    "Kept, under your study code. Thank you for taking part. If you change your mind, send "
    "'stop' again and choose to delete everything."
)
ERASED = (
    "Done: everything you shared has been deleted, and carbot no longer knows who you are. "
    "Thank you for taking part."
)
ERASE_FAILED = (
    "Sorry, something went wrong and nothing has been deleted yet. Please tap 'Delete "
    "everything I shared' again in a minute, or ask the research team to do it for you."
)
ERASE_INCOMPLETE = (
    "I've deleted what you shared, but a final check found something left over. The research "
    "team has been told and will finish the job; you don't need to do anything."
)
HEARD_FALLBACK = "Here's what we heard from your project this week. Did we get it right?"
HEARD_UNKNOWN = "Sorry, I can't find that summary, so nothing was saved."


def _choice(action: actions.Action, label: str) -> Choice:
    return Choice(actions.encode(action), label)


def consent_choices() -> tuple[Choice, ...]:
    return (
        _choice(actions.Consent(agreed=True), "I agree"),
        _choice(actions.Consent(agreed=False), "No thanks"),
    )


def withdrawal_choices() -> tuple[Choice, ...]:
    return (
        _choice(actions.Withdraw(erase=False), "Keep what I shared"),
        _choice(actions.Withdraw(erase=True), "Delete everything I shared"),
    )


def audience_choices(*, last: bool = False) -> tuple[Choice, ...]:
    """The four audiences as buttons: for new answers, or (``last``) for the last answer only."""
    return tuple(
        _choice(actions.SetAudience(key, last=last), AUDIENCE_SHORT[key]) for key in AUDIENCE_LABELS
    )


def project_choices(projects: list[tuple[str, str]]) -> tuple[Choice, ...]:
    """Which project a note belongs to, from (slug, name) pairs."""
    return tuple(_choice(actions.FileNote(slug), name) for slug, name in projects)


def heard_choices(digest_id: int) -> tuple[Choice, ...]:
    """ "That's right" / "Not quite" for the "what we heard" message ``digest_id``."""
    return (
        _choice(actions.Heard(digest_id, right=True), "That's right"),
        _choice(actions.Heard(digest_id, right=False), "Not quite"),
    )


def saved(where: str, audience: str) -> str:
    return f"Saved to {where}, visible to: {AUDIENCE_LABELS[audience]}. Reply 'audience' to change."


def audience_question(small_projects: list[str]) -> str:
    """The audience question, with a plain warning when a team is too small to be anonymous."""
    return AUDIENCE_QUESTION + (f"\n\n{small_team(small_projects)}" if small_projects else "")


def small_team(projects: list[str]) -> str:
    named = projects[0] if len(projects) == 1 else ", ".join(projects[:-1]) + f" and {projects[-1]}"
    return SMALL_TEAM.format(projects=named, has="has" if len(projects) == 1 else "have")


def human_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def human_time(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B} at {moment:%H:%M}"


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{max(1, size // 1024)} KB"


FILE_NOUNS = {"photo": "the photo", "voice": "the voice note", "video": "the video"}


def excerpt(words: str, limit: int = 60) -> str:
    """``words`` on one line, cut at a word boundary with "…" when longer than ``limit``."""
    flat = " ".join(words.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def removed_parts(kind: str, value: str, words: str, files: list[tuple[str, str]]) -> str:
    """What an ``undo`` took away, as a person would list it: 'your rating "4 — Quite well"',
    'your words "We met twice"', 'the photo rota.jpg'."""
    parts = []
    if kind in ("scale", "choice") and value:
        parts.append(f'your {"rating" if kind == "scale" else "choice"} "{value}"')
    elif words.strip():
        parts.append(f'your words "{excerpt(words)}"')
    parts.extend(f"{FILE_NOUNS.get(kind, 'the file')} {name}" for kind, name in files)
    if not parts:
        return "your answer"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


UNDO_RACED = (
    "That question changed just now (it may have closed), so I haven't taken anything back. "
    "Send 'undo' again if you still want to."
)


def undone_addition(what: str, question: str) -> str:
    return (
        f'Done — I removed {what} from your answer to "{excerpt(question)}". '
        "The rest of that answer is kept."
    )


def undone_answer(what: str, question: str, reopened: bool) -> str:
    again = " The question is open again if you'd like to answer it." if reopened else ""
    return f'Done — I deleted your whole answer to "{excerpt(question)}" ({what}).{again}'


def undone_note(what: str) -> str:
    return f"Done — I deleted your note ({what})."
