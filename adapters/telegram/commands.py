"""The commands people can send the bot, declared once.

The same list feeds the ``/help`` text shown to people who are not signed up yet, ``carbot
telegram commands`` (the text BotFather's ``/setcommands`` asks for) and ``carbot telegram
set-commands`` (Telegram's ``setMyCommands``). ``/start`` is left out on purpose: Telegram shows
its own Start button, and sign-up happens through a link, not by typing it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    description: str  # Telegram allows 3–256 characters; keep it short enough for a phone


COMMANDS: tuple[Command, ...] = (
    Command("help", "What I can do and how to answer"),
    Command("note", "Add a note or evidence, not tied to a question"),
    Command("pause", "Pause questions, e.g. /pause 2 weeks for leave"),
    Command("resume", "Start questions again after a pause"),
    Command("snooze", "Ask me this question again later"),
    Command("skip", "Skip the current question"),
    Command("edit", "Change your last answer"),
    Command("undo", "Take back your last answer"),
    Command("audience", "Choose who may see your answers"),
    Command("status", "Your projects, pauses and who sees your answers"),
    Command("mydata", "What carbot holds about you"),
    Command("time", "Questions answered and minutes taken, to show a manager"),
    Command("stop", "Stop taking part; keep or delete what you shared"),
)


def botfather_list(commands: tuple[Command, ...] = COMMANDS) -> str:
    """The lines BotFather's ``/setcommands`` expects: ``name - description``."""
    return "\n".join(f"{command.name} - {command.description}" for command in commands)


def help_lines(commands: tuple[Command, ...] = COMMANDS) -> str:
    """The commands as a person reads them in a chat: ``/name — description``."""
    return "\n".join(f"/{command.name} — {command.description}" for command in commands)
