"""What the channels' pacers share: a send's turn, and when its request came back.

Telegram's and Teams' pacers count their windows from when earlier requests *came back*, not
from when they started: however requests bunch up on the way, the platform cannot have seen
more than a window allows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Turn:
    """One send's turn: when its request came back (``done`` is set then)."""

    done: asyncio.Event = field(default_factory=asyncio.Event)
    end: float = 0.0


async def came_back(turn: Turn, within: float, clock: Callable[[], float]) -> float:
    """When ``turn``'s request came back; if it is still out after ``within`` seconds, now (the
    platform has had it by then, so counting from now is on the safe side)."""
    if not turn.done.is_set():
        try:
            await asyncio.wait_for(turn.done.wait(), within)
        except TimeoutError:
            return clock()
    return turn.end
