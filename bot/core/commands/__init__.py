"""The commands a person can send: help, note, pause, resume, snooze, skip, edit, undo,
audience, status, my data, my time and stop. Each is a step on an open transaction (a
:class:`Turn`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.core import texts
from bot.core.commands.account import cmd_help, cmd_my_data, cmd_status, cmd_stop, cmd_time
from bot.core.commands.reflections import cmd_audience, cmd_edit, cmd_note, cmd_undo, set_audience
from bot.core.commands.timing import cmd_pause, cmd_resume, cmd_skip, cmd_snooze
from bot.core.turn import Turn

log = logging.getLogger(__name__)

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


__all__ = ["COMMANDS", "STOP_WORDS", "Command", "run_command", "set_audience"]
