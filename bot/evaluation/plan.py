"""Which evaluation item, if any, a person's next prompt slot asks (pure: no database, no clock).

After an event ends, each participant of a taking-part project is asked the ``evaluation``
prompt set, one item in each of their usual prompt slots (so the project's cadence, the weekly
cap and working hours hold as for any prompt), in the set's order, until every item has been
asked or the evaluation window (:data:`~bot.evaluation.events.EVALUATION_DAYS`) closes. A
person in two taking-part projects is asked once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.evaluation.events import EventInfo
from prompts.library import ChosenPrompt, PromptItem, scale_options
from prompts.schedule import local_instant

EVENT_PLACEHOLDER = "{event}"


def item_due(
    events: Sequence[EventInfo],
    items: Sequence[PromptItem],
    timeline: Sequence[tuple[datetime, str]],
    slot: datetime,
    zone: ZoneInfo,
) -> tuple[EventInfo, PromptItem] | None:
    """The evaluation item for ``slot``: of the latest event (of the project) whose evaluation
    window holds the slot's local date, the first item not yet in the person's ``timeline``
    (their (slot, prompt key) pairs, every project) since that event ended."""
    day = slot.astimezone(zone).date()
    for event in sorted(events, key=lambda e: e.ends_on, reverse=True):
        if not event.evaluates_on(day):
            continue
        since = local_instant(event.ends_on + timedelta(days=1), time(0), zone)
        asked = {key for when, key in timeline if since <= when and when != slot}
        for item in items:
            if item.key not in asked:
                return event, item
        return None
    return None


def render_item(item: PromptItem, event: EventInfo) -> ChosenPrompt:
    """An evaluation item ready to send, the event's name filled in."""
    return ChosenPrompt(
        key=item.key,
        kind=item.kind,
        text=item.text.replace(EVENT_PLACEHOLDER, event.name),
        options=scale_options(item) if item.kind == "scale" else [],
    )
