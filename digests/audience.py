"""Who may see a reflection in which digest, and the small-n rule that keeps anonymity real.

=====================  ======================  =====================  ======================
audience               lead's weekly digest    "what we heard" chat   cross-partnership
=====================  ======================  =====================  ======================
``team``               with the author's name  quoted, no name        study code, no name
``team_anonymous``     no name (small-n rule)  no name (small-n rule) study code, no name
``researchers``        never                   never                  study code, no name
``private``            never                   never                  never
=====================  ======================  =====================  ======================

**The small-n rule.** In a small team, "anonymous" means little if only one or two people wrote
anonymously: the lead can guess who. So, for one project and one week, anonymous items (text,
notes, evidence, plans) appear only when at least :data:`SMALL_N` (3) *different* people
contributed anonymous items that week; otherwise they are all held back and the digest says how
many ("2 anonymous reflections held back to protect anonymity"). Held-back items are carried
into the following weeks' pool, for at most :data:`CARRY_WEEKS` weeks in all, and appear (marked
"from an earlier week") in the first digest whose pool reaches three people; after that they
stay in the review app only, for researchers. Ratings and choice counts are only ever shown as
aggregates, and only when at least :data:`SMALL_N` different people gave one for that prompt; a
team member's rating never appears next to their name. Anonymous items carry no date, time,
channel or author, and are listed in an order that does not follow who wrote them or when.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Literal, TypeVar

DigestKind = Literal["lead_weekly", "what_we_heard", "cross_partnership"]
DIGEST_KINDS: tuple[DigestKind, ...] = ("lead_weekly", "what_we_heard", "cross_partnership")

SMALL_N = 3
CARRY_WEEKS = 4  # a held-back anonymous item may still appear this many weeks after its own

_VISIBLE: dict[DigestKind, frozenset[str]] = {
    "lead_weekly": frozenset({"team", "team_anonymous"}),
    "what_we_heard": frozenset({"team", "team_anonymous"}),
    "cross_partnership": frozenset({"team", "team_anonymous", "researchers"}),
}

T = TypeVar("T")


def visible_audiences(kind: DigestKind) -> frozenset[str]:
    return _VISIBLE[kind]


def is_visible(kind: DigestKind, audience: str) -> bool:
    return audience in _VISIBLE[kind]


def shows_name(kind: DigestKind, audience: str) -> bool:
    """Only a lead's digest names anyone, and only for ``team`` reflections."""
    return kind == "lead_weekly" and audience == "team"


def is_anonymous(kind: DigestKind, audience: str) -> bool:
    """Whether the small-n rule applies to this reflection in this digest."""
    return kind in ("lead_weekly", "what_we_heard") and audience == "team_anonymous"


def enough_people(person_ids: Iterable[int]) -> bool:
    return len(set(person_ids)) >= SMALL_N


def anonymous_pool_open(contributors: Iterable[int]) -> bool:
    """The small-n rule for one project and week: are there enough anonymous contributors?"""
    return enough_people(contributors)


def carried_over(
    earlier: Iterable[tuple[int, int, date]], week_start: date, weeks: int = CARRY_WEEKS
) -> set[int]:
    """The ids of anonymous items from the weeks before ``week_start`` that are still held back.

    ``earlier`` gives (item id, person id, Monday of the item's week) for the anonymous items of
    the ``weeks - 1`` weeks before. Replays the small-n rule week by week: a pool that reaches
    :data:`SMALL_N` people was shown and empties; otherwise it carries on, dropping items older
    than ``weeks`` weeks.
    """
    by_week: dict[date, list[tuple[int, int, date]]] = {}
    for item in earlier:
        by_week.setdefault(item[2], []).append(item)
    carry: list[tuple[int, int, date]] = []
    for back in range(weeks - 1, 0, -1):
        monday = week_start - timedelta(weeks=back)
        oldest = monday - timedelta(weeks=weeks - 1)
        pool = [i for i in carry if i[2] >= oldest] + by_week.get(monday, [])
        carry = [] if enough_people(i[1] for i in pool) else pool
    oldest = week_start - timedelta(weeks=weeks - 1)
    return {i[0] for i in carry if i[2] >= oldest}


def released(items: Iterable[tuple[int, int, date]], weeks: int = CARRY_WEEKS) -> set[int]:
    """The ids of the anonymous items some weekly digest shows (or will show), by the rule above.

    ``items`` gives (item id, person id, Monday of the item's week) for every anonymous item of
    one project. Each week with items is judged as its digest judges it: that week's items and
    the earlier ones :func:`carried_over` still holds back form the pool, shown when it reaches
    :data:`SMALL_N` people. A week without new items never opens a pool (what is carried holds
    fewer than three people), so only weeks with items need judging. The review workspace shows
    a lead exactly these.
    """
    everything = list(items)
    by_week: dict[date, list[tuple[int, int, date]]] = {}
    for item in everything:
        by_week.setdefault(item[2], []).append(item)
    shown: set[int] = set()
    for monday in sorted(by_week):
        oldest = monday - timedelta(weeks=weeks - 1)
        window = [i for i in everything if oldest <= i[2] < monday]
        keep = carried_over(window, monday, weeks)
        pool = by_week[monday] + [i for i in window if i[0] in keep]
        if anonymous_pool_open(i[1] for i in pool):
            shown.update(i[0] for i in pool)
    return shown


def unlinkable_order(items: Sequence[T], key: Callable[[T], int], salt: str) -> list[T]:
    """A stable order that follows neither author nor time (a keyed hash of each item's id)."""

    def rank(item: T) -> str:
        return hashlib.sha256(f"{salt}:{key(item)}".encode()).hexdigest()

    return sorted(items, key=rank)
