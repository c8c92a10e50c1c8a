"""Time, as carbot's jobs see it.

Everything that needs "now" takes it as an argument; the scheduler gets it from a clock. The real
clock is UTC wall time; the demo clock runs faster from a starting point, so that a newcomer
sees a prompt arrive within a minute (``--demo-speed``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
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


DEMO_CLOCK_FILE = "demo-clock.json"


def save_demo_clock(data_dir: Path, now: datetime, speed: float) -> Path:
    """Remember where the demo clock stands, so a later ``carbot run`` carries it on."""
    path = Path(data_dir) / DEMO_CLOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"now": now.astimezone(UTC).isoformat(), "speed": speed}))
    return path


def saved_demo_clock(data_dir: Path) -> tuple[datetime, float] | None:
    """The demo clock as the demo last left it (time, speed), or None when there is none or
    the file cannot be read."""
    path = Path(data_dir) / DEMO_CLOCK_FILE
    try:
        saved = json.loads(path.read_text())
        now = datetime.fromisoformat(saved["now"])
        speed = float(saved["speed"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if now.tzinfo is None or speed <= 0:
        return None
    return now, speed
