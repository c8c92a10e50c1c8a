"""What a study load did, and the values a study file gives a person's row."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.study.schema import PersonSpec
from prompts.cadence import WEEKDAYS

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no I, L, O, U, 0, 1: easy to read aloud


@dataclass
class LoadReport:
    """What a load did, per kind of row: e.g. ``created["phase"] == 27``."""

    study: str
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    deactivated: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return any((self.created, self.updated, self.deactivated, self.removed))

    def lines(self) -> list[str]:
        if not self.changed:
            return [f"Study {self.study!r} is up to date: nothing changed."]
        lines = [f"Study {self.study!r} loaded."]
        for label, counts in (
            ("created", self.created),
            ("updated", self.updated),
            ("deactivated", self.deactivated),
            ("removed", self.removed),
        ):
            if counts:
                parts = ", ".join(f"{n} {_plural(kind, n)}" for kind, n in sorted(counts.items()))
                lines.append(f"  {label}: {parts}")
        return lines


def _plural(kind: str, n: int) -> str:
    if n == 1:
        return kind
    irregular = {"person": "people", "study": "studies", "channel identity": "channel identities"}
    return irregular.get(kind, kind + "s")


def person_values(spec: PersonSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "email": spec.email,
        "timezone": spec.timezone,
        "working_days": [WEEKDAYS.index(day) for day in spec.working_days],
        "work_starts": spec.working_hours[0],
        "work_ends": spec.working_hours[1],
        "default_audience": spec.default_audience,
        "pauses": [
            {"from": leave.starts.isoformat(), "until": leave.until.isoformat()}
            for leave in spec.leave
        ],
        "active": True,
    }


def new_study_code(taken: set[str]) -> str:
    """A study code: a pseudonym that researchers see instead of a name, made once."""
    while True:
        code = "P-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(5))
        if code not in taken:
            return code
