"""Time, as carbot's jobs see it.

Everything that needs "now" takes it as an argument; the scheduler gets it from a clock. The real
clock is UTC wall time; the demo clock runs faster from a starting point, so that a newcomer
sees a prompt arrive within a minute (``--demo-speed``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class ScaledClock:
    """A clock that starts at ``start`` and runs ``speed`` times faster than real time."""

    start: datetime
    speed: float = 1.0
    _origin: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("the demo clock needs a timezone-aware start")
        if self.speed <= 0:
            raise ValueError("the demo clock's speed must be positive")

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self.speed
        return (self.start + timedelta(seconds=elapsed)).astimezone(UTC)


@dataclass
class FrozenClock:
    """A clock for tests: it says what it is told, and moves when told."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        self.current = self.current + delta
        return self.current
