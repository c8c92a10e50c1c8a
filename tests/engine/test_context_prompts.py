"""Context prompts before an event: planned in the weeks before it, in order, within the caps."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.engine.planner import plan_once
from bot.services import Services
from prompts.context import CONTEXT_WEEKS, EventWindow, context_prompt
from prompts.library import CONTEXT_TOPICS, load_library
from storage.db import transaction
from storage.models import Event, EventProject
from tests.engine.test_planner import deliveries, make_person, make_project, utc

LONDON = ZoneInfo("Europe/London")
CAPPED = {"weekdays": ["mon", "tue", "wed", "thu"], "per_week": 3, "weekly_cap": 2}
RETREAT = date(2027, 5, 18)


async def add_event(services: Services, project_ids: list[int], starts_on: date = RETREAT) -> None:
    async with transaction(services.sessions) as session:
        event = Event(
            key="retreat-may", name="the May retreat", kind="retreat",
            starts_on=starts_on, ends_on=starts_on + timedelta(days=1),
        )  # fmt: skip
        session.add(event)
        await session.flush()
        for project_id in project_ids:
            session.add(EventProject(event_id=event.id, project_id=project_id))


async def plan_weeks(services: Services, start: date, weeks: int) -> None:
    moment = utc(start.year, start.month, start.day)
    while moment < utc(start.year, start.month, start.day) + timedelta(weeks=weeks):
        await plan_once(services, moment)
        moment += timedelta(hours=6)


async def test_context_prompts_are_planned_before_an_event_in_order_within_the_caps(
    services: Services,
) -> None:
    taking_part = await make_project(services, cadence=CAPPED)
    elsewhere = await make_project(services, "fife-prevention", cadence=CAPPED)
    await add_event(services, [taking_part])
    amy_id = await make_person(services, "amy", [taking_part])
    await make_person(services, "ben", [elsewhere])
    await make_person(services, "cal", [taking_part], role="lead")
    opens = RETREAT - timedelta(weeks=CONTEXT_WEEKS)

    await plan_weeks(services, opens - timedelta(weeks=2), CONTEXT_WEEKS + 4)

    series = [item.key for item in load_library(None).context_series()]
    assert [load_library(None).get(key).context for key in series] == list(CONTEXT_TOPICS)  # type: ignore[union-attr]
    rows = await deliveries(services)
    amy = [d for d in rows if d.person_id == amy_id]
    context = [d for d in amy if d.prompt_key in series]
    local_days = [d.slot.astimezone(LONDON).date() for d in context]
    assert [d.prompt_key for d in context] == series[: len(context)]
    assert len(context) >= 4  # two a week for three weeks, one slot maybe already planned
    assert all(opens <= day < RETREAT for day in local_days)
    assert all("the May retreat" in d.prompt_text for d in context)
    # the caps and working hours hold exactly as on any other week
    weekly = Counter(d.slot.astimezone(LONDON).isocalendar()[:2] for d in amy)
    assert max(weekly.values()) <= 2
    local = [d.slot.astimezone(LONDON) for d in amy]
    assert all(9 <= t.hour < 17 and t.weekday() < 4 for t in local)
    # until the series is done, every slot in the window asks for context
    usual_in_window = [
        d for d in amy if d.prompt_key not in series and opens <= d.slot.date() < RETREAT
    ]
    assert len(context) == len(series) or len(usual_in_window) <= 1
    # nobody else is asked for context: not another project's participant, not a lead
    assert not [d for d in rows if d.person_id != amy_id and d.prompt_key in series]


async def test_context_prompts_never_appear_in_the_usual_rotation(services: Services) -> None:
    project_id = await make_project(services, cadence=CAPPED)
    await make_person(services, "amy", [project_id])
    await plan_weeks(services, date(2027, 3, 1), 8)
    series = {item.key for item in load_library(None).context_series()}
    rows = await deliveries(services)
    assert len(rows) >= 12
    assert not [d for d in rows if d.prompt_key in series]


def test_a_study_replaces_a_context_prompt_by_its_key_and_the_series_keeps_its_order() -> None:
    own = "What would you most like the other partnerships to know about your project?"
    library = load_library(
        {"prompts": {"mode": "extend", "items": [
            {"key": "context-background", "kind": "text", "text": own, "context": "background"},
        ]}}
    )  # fmt: skip
    window = EventWindow("retreat-may", "the May retreat", RETREAT)
    first = context_prompt(library, [window], RETREAT - timedelta(days=10), [], [], "seed")
    assert first is not None and first.key == "context-background"
    assert first.text == f"Before the May retreat (Tuesday 18 May): {own}"
    asked = [(utc(2027, 5, 4, 10), "context-background")]
    second = context_prompt(library, [window], RETREAT - timedelta(days=7), asked, [], "seed")
    assert second is not None and second.key == "context-status"


def test_no_context_prompt_is_offered_outside_the_weeks_before_an_event() -> None:
    library = load_library(None)
    window = EventWindow("retreat-may", "the May retreat", RETREAT)
    opens = RETREAT - timedelta(weeks=CONTEXT_WEEKS)
    assert context_prompt(library, [window], opens - timedelta(days=1), [], [], "s") is None
    assert context_prompt(library, [window], RETREAT, [], [], "s") is None
    assert context_prompt(library, [window], opens, [], [], "s") is not None
    replaced = load_library(
        {"prompts": {"mode": "replace", "items": [
            {"key": "only-one", "kind": "text", "text": "What happened this week?"},
        ]}}
    )  # fmt: skip
    assert context_prompt(replaced, [window], opens, [], [], "s") is None
