"""The life of a delivery: its states, every allowed move between them, and the one way to move.

Every change of ``Delivery.status`` in carbot goes through :func:`move` (or :func:`move_many`,
its batch form for claims and expiry): a conditional UPDATE ``WHERE id = … AND status IN
(allowed sources)`` that stamps the time (``status_at`` and the state's own ``<state>_at``
column) and the reason (``status_reason``). A move whose row has changed meanwhile changes
nothing and returns False, so two workers, or a worker and a person's command, never both win.

The table :data:`TRANSITIONS` is the whole story: one row per (reason, target state), with the
states it may leave from and whether the slot may come back — a prompt called off for a reason
that is later taken back (a pause lifted, leave removed, hours changed back) is planned again by
the planner while its slot is still ahead. The rule for call-offs: what the person chose
(skipping, pausing, withdrawing, not yet agreeing to new consent) ends ``skipped``; what the
study changed (leave, hours, phases, membership, a window that passed) ends ``cancelled``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.errors import IllegalMove
from storage.models import DELIVERY_STATUSES, Delivery

CALLED_OFF = ("skipped", "cancelled")
# the column each state stamps with the time it was entered (besides ``status_at``)
STAMPS = {
    "skipped": "skipped_at",
    "cancelled": "cancelled_at",
    "failed": "failed_at",
    "answered": "answered_at",
    "expired": "expired_at",
}


@dataclass(frozen=True)
class Transition:
    """One allowed move: from any of ``sources`` to ``to``, for ``reason``."""

    reason: str
    sources: tuple[str, ...]
    to: str
    may_return: bool  # the slot is planned again when the reason is taken back
    why: str  # said in the row's ``last_error`` for a call-off, and in the README


TRANSITIONS: tuple[Transition, ...] = (
    # planning
    Transition("replanned", CALLED_OFF, "planned", False, "what called it off was taken back"),
    # dispatch
    Transition("claimed", ("planned", "sending"), "sending", False, "a worker claimed it to send"),
    Transition("released", ("sending",), "planned", False, "an unsent claim was given back"),
    Transition("sent", ("sending",), "sent", False, "the platform accepted it"),
    Transition("retry", ("sending",), "planned", False, "a send failed and will be tried again"),
    Transition("send_failed", ("sending",), "failed", False, "the send failed for good"),
    Transition("gave_up", ("sending",), "failed", False, "every attempt to send it was cut short"),
    Transition("no_channel", ("sending",), "failed", False, "no reachable channel"),
    # after sending
    Transition("reminding", ("sent",), "reminded", False, "a worker claimed its reminder"),
    Transition("no_reminder", ("reminded",), "sent", False, "its reminder could not go out"),
    Transition("answered", ("sent", "reminded"), "answered", False, "the person answered"),
    Transition("expired", ("sent", "reminded"), "expired", False, "its answer window ended"),
    Transition("undone", ("answered",), "sent", False, "the answer was taken back"),
    Transition("undone", ("answered",), "reminded", False, "the answer was taken back"),
    Transition("undone", ("answered",), "expired", False, "the answer was taken back late"),
    Transition("snoozed", ("sent", "reminded"), "planned", False, "the person snoozed it"),
    # the person's choice: skipped
    Transition(
        "skipped_by_person",
        ("planned", "sent", "reminded"),
        "skipped",
        False,
        "the person skipped it",
    ),
    Transition("paused", ("planned", "sending"), "skipped", True, "the person paused prompts"),
    Transition(
        "withdrawn",
        ("planned", "sending", "sent", "reminded"),
        "skipped",
        True,
        "the person withdrew",
    ),
    Transition(
        "awaiting_consent",
        ("sending",),
        "skipped",
        False,
        "waiting for consent to the study's current version",
    ),
    # the study's change: cancelled
    Transition(
        "left",
        ("planned", "sending"),
        "cancelled",
        True,
        "the person is no longer prompted in this project",
    ),
    Transition("phase", ("planned", "sending"), "cancelled", True, "no phase runs on its day"),
    Transition(
        "leave", ("planned", "sending"), "cancelled", True, "it falls in the person's leave"
    ),
    Transition(
        "hours",
        ("planned", "sending"),
        "cancelled",
        True,
        "it is no longer inside the person's working time",
    ),
    Transition(
        "window_passed",
        ("sending",),
        "cancelled",
        False,
        "its answer window passed before it could be sent",
    ),
)

_BY_KEY = {(t.reason, t.to): t for t in TRANSITIONS}
# reasons whose called-off slot the planner may plan again
RETURNABLE = tuple(sorted({t.reason for t in TRANSITIONS if t.may_return}))


def transition_for(to: str, reason: str) -> Transition:
    try:
        return _BY_KEY[(reason, to)]
    except KeyError:
        raise IllegalMove(f"no transition to {to!r} for {reason!r}") from None


def called_off_status(reason: str) -> str:
    """The status a call-off for ``reason`` ends in (``skipped`` or ``cancelled``)."""
    statuses = {t.to for t in TRANSITIONS if t.reason == reason and t.to in CALLED_OFF}
    if len(statuses) != 1:
        raise IllegalMove(f"{reason!r} is not a reason to call a delivery off")
    return statuses.pop()


def why(reason: str) -> str:
    """The words for a reason (the first row that has it)."""
    return next(t.why for t in TRANSITIONS if t.reason == reason)


def _values(
    transition: Transition, now: datetime, values: Mapping[str, Any] | None
) -> dict[str, Any]:
    if "status" in (values or {}):
        raise IllegalMove("the status is set by the move, not by its values")
    stamped: dict[str, Any] = {
        "status": transition.to,
        "status_reason": transition.reason,
        "status_at": now,
        "updated_at": now,
    }
    stamp = STAMPS.get(transition.to)
    if stamp is not None:
        stamped[stamp] = now
    if transition.to in CALLED_OFF:
        stamped["last_error"] = transition.why
    if transition.to != "sending":  # only a claim holds a lease
        stamped.update(lease_owner=None, lease_until=None)
    stamped.update(values or {})
    return stamped


def _sources(transition: Transition, expected_from: str | Iterable[str] | None) -> list[str]:
    if expected_from is None:
        return list(transition.sources)
    wanted = [expected_from] if isinstance(expected_from, str) else list(expected_from)
    stray = [s for s in wanted if s not in transition.sources]
    if stray:
        raise IllegalMove(f"{transition.reason}: cannot move from {stray} to {transition.to!r}")
    return wanted


async def move(
    session: AsyncSession,
    delivery: Delivery | int,
    to: str,
    reason: str,
    now: datetime,
    *,
    expected_from: str | Iterable[str] | None = None,
    where: Sequence[Any] = (),
    values: Mapping[str, Any] | None = None,
) -> bool:
    """Move one delivery to ``to`` for ``reason`` if it is still in an allowed source state
    (narrowed by ``expected_from``) and matches ``where``; True when exactly that row changed.

    ``values`` are further columns written by the same UPDATE (a new due time, a lease). A
    :class:`Delivery` object given is left as loaded; re-read it if you need the new state.
    """
    delivery_id = delivery if isinstance(delivery, int) else delivery.id
    statement = move_statement(
        delivery_id, to, reason, now, expected_from=expected_from, where=where, values=values
    )
    result = await session.execute(statement)
    return cast(int, getattr(result, "rowcount", 0)) == 1


def move_statement(
    delivery_id: int,
    to: str,
    reason: str,
    now: datetime,
    *,
    expected_from: str | Iterable[str] | None = None,
    where: Sequence[Any] = (),
    values: Mapping[str, Any] | None = None,
) -> Any:
    """The conditional UPDATE :func:`move` runs, for a caller that must run it on a connection
    of its own (dispatch commits the platform's answer alone, at once); one row changed means
    the move happened."""
    transition = transition_for(to, reason)
    return (
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status.in_(_sources(transition, expected_from)),
            *where,
        )
        .values(**_values(transition, now, values))
        .execution_options(synchronize_session=False)
    )


async def move_many(
    session: AsyncSession,
    where: Sequence[Any],
    to: str,
    reason: str,
    now: datetime,
    *,
    expected_from: str | Iterable[str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> int:
    """:func:`move` for every delivery matching ``where`` at once (a claimed batch, the prompts
    whose window ended); returns how many rows changed."""
    transition = transition_for(to, reason)
    result = await session.execute(
        update(Delivery)
        .where(Delivery.status.in_(_sources(transition, expected_from)), *where)
        .values(**_values(transition, now, values))
        .execution_options(synchronize_session=False)
    )
    return cast(int, getattr(result, "rowcount", 0))


async def move_many_returning(
    session: AsyncSession,
    where: Sequence[Any],
    to: str,
    reason: str,
    now: datetime,
    *,
    values: Mapping[str, Any] | None = None,
) -> list[int]:
    """:func:`move_many`, returning the ids of exactly the rows this UPDATE changed."""
    transition = transition_for(to, reason)
    result = await session.execute(
        update(Delivery)
        .where(Delivery.status.in_(_sources(transition, None)), *where)
        .values(**_values(transition, now, values))
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in result.all()]


def transition_table() -> str:
    """The table as Markdown, as the README shows it (a test checks they agree)."""
    lines = [
        "| reason | from | to | slot may come back | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in TRANSITIONS:
        sources = ", ".join(f"`{s}`" for s in t.sources)
        back = "yes" if t.may_return else "no"
        lines.append(f"| `{t.reason}` | {sources} | `{t.to}` | {back} | {t.why} |")
    return "\n".join(lines)


def _check_table() -> None:
    for t in TRANSITIONS:
        for state in (*t.sources, t.to):
            if state not in DELIVERY_STATUSES:
                raise IllegalMove(f"{t.reason}: unknown state {state!r}")


_check_table()

if __name__ == "__main__":  # python -m bot.engine.deliveries: the README's table
    print(transition_table())
