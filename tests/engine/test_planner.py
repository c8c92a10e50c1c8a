"""The planning step, on real databases: who is planned, when, with what, and only once."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from bot.engine.calloff import tidy_planned
from bot.engine.deliveries import move, transition_for
from bot.engine.planner import plan_once
from bot.services import Services
from prompts.library import load_library, neighbours
from prompts.schedule import is_bank_holiday
from storage.db import transaction
from storage.models import (
    ConsentRecord,
    Delivery,
    Partnership,
    Person,
    Phase,
    Project,
    Reflection,
    Study,
)
from tests.support.world import (
    Consent,
    add_consent,
    add_identity,
    add_person,
    add_project,
    model_cycle,
)

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2027, 3, 22, 0, 0, tzinfo=UTC)  # the week before the clocks go forward
AT_1030 = {"weekdays": ["tue", "thu"], "per_week": 2, "at": "10:30"}
RQ_TEXT = "How can the family hub reach families who do not use services now?"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def make_project(
    services: Services, slug: str = "fife-family-hub", cadence: dict[str, Any] | None = None
) -> int:
    """A project with one cycle of the default model: scoping, exploring evidence, testing."""
    async with transaction(services.sessions) as session:
        fife = await session.scalar(select(Partnership).where(Partnership.slug == "fife"))
        made = await add_project(
            session,
            slug,
            slug,
            partnership=fife or ("fife", "Fife"),
            cadence=cadence or AT_1030,
            questions=[("reach", RQ_TEXT, ["community engagement"])],
            **model_cycle(
                date(2027, 1, 4), date(2027, 3, 15), date(2027, 7, 1), date(2027, 12, 31)
            ),
        )
        return made.project.id


async def make_person(
    services: Services,
    key: str,
    project_ids: list[int],
    *,
    consent: bool = True,
    identity_status: str = "active",
    role: str = "participant",
    **fields: Any,
) -> int:
    async with transaction(services.sessions) as session:
        person = await add_person(
            session, key, key.upper()[:20], key, projects=project_ids, role=role, **fields
        )
        await add_identity(session, person, "webchat", f"web-{key}", status=identity_status)
        if consent:
            await add_consent(session, person, "webchat", Consent(utc(2027, 1, 1)))
        return person.id


async def deliveries(services: Services, **where: Any) -> list[Delivery]:
    async with services.sessions() as session:
        query = select(Delivery).order_by(Delivery.slot)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return list((await session.execute(query)).scalars())


async def test_it_plans_a_prompt_for_the_persons_next_slot_with_its_context(
    services: Services,
) -> None:
    project_id = await make_project(services)
    person_id = await make_person(services, "amy", [project_id])

    assert await plan_once(services, MONDAY) == 1

    [delivery] = await deliveries(services)
    assert delivery.person_id == person_id and delivery.project_id == project_id
    assert delivery.status == "planned"
    assert delivery.slot == delivery.due_at == utc(2027, 3, 23, 10, 30)  # Tuesday, GMT
    async with services.sessions() as session:
        phase = await session.get(Phase, delivery.phase_id)
    assert phase is not None and phase.key == "exploring-evidence"
    assert delivery.cycle_id == phase.cycle_id
    item = load_library(None).get(delivery.prompt_key)
    assert item is not None and (not item.phases or "exploring-evidence" in item.phases)
    assert delivery.prompt_kind == item.kind
    assert delivery.prompt_text
    if item.kind == "scale":
        assert [o["value"] for o in delivery.prompt_options] == ["1", "2", "3", "4", "5"]


async def test_planning_twice_or_in_two_workers_at_once_plans_each_slot_once(
    any_services: Services,
) -> None:
    project_id = await make_project(any_services)
    for n in range(5):
        await make_person(any_services, f"p{n}", [project_id])

    first = await plan_once(any_services, MONDAY, horizon=timedelta(days=7))
    rows = [(d.person_id, d.slot, d.prompt_key) for d in await deliveries(any_services)]
    again = await plan_once(any_services, MONDAY, horizon=timedelta(days=7))
    later = await plan_once(any_services, MONDAY + timedelta(hours=1), horizon=timedelta(days=7))
    racing = await asyncio.gather(
        plan_once(any_services, MONDAY + timedelta(days=7), horizon=timedelta(days=7)),
        plan_once(any_services, MONDAY + timedelta(days=7), horizon=timedelta(days=7)),
    )

    assert first == 10  # Tuesday and Thursday for each of five people
    assert again == 0 and later == 0
    assert [(d.person_id, d.slot, d.prompt_key) for d in await deliveries(any_services)][
        :10
    ] == rows
    assert sum(racing) == 10
    async with any_services.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(Delivery))
    assert total == 20


async def test_only_consenting_reachable_active_participants_are_planned(
    services: Services,
) -> None:
    project_id = await make_project(services)
    ended = await make_project(services, "ended-project")
    async with transaction(services.sessions) as session:
        await session.execute(update(Project).where(Project.id == ended).values(active=False))
    planned = await make_person(services, "yes", [project_id])
    await make_person(services, "no-consent", [project_id], consent=False)
    await make_person(services, "unreachable", [project_id], identity_status="unreachable")
    await make_person(services, "lead", [project_id], role="lead")
    await make_person(services, "withdrawn", [project_id], withdrawn_at=utc(2027, 3, 1))
    await make_person(services, "left", [project_id], active=False)
    await make_person(services, "ended-only", [ended])
    withdrew_consent = await make_person(services, "stopped", [project_id])
    async with transaction(services.sessions) as session:
        await session.execute(
            update(ConsentRecord)
            .where(ConsentRecord.person_id == withdrew_consent)
            .values(withdrawn_at=utc(2027, 3, 10))
        )

    await plan_once(services, MONDAY, horizon=timedelta(days=7))

    assert {d.person_id for d in await deliveries(services)} == {planned}


async def test_six_weeks_of_planning_across_the_clock_change_honour_every_rule(
    services: Services,
) -> None:
    random_window = {"weekdays": ["mon", "tue", "thu"], "per_week": 3, "weekly_cap": 3}
    project_id = await make_project(services, cadence=random_window)
    other_id = await make_project(services, "fife-prevention", cadence=random_window)
    people = {
        await make_person(services, "london", [project_id, other_id]): None,
        await make_person(services, "toronto", [project_id], timezone="America/Toronto"): None,
        await make_person(services, "kolkata", [project_id], timezone="Asia/Kolkata"): None,
        await make_person(
            services, "part-time", [project_id], working_days=[0, 1],
            work_starts=time(9, 30), work_ends=time(13, 0),
            pauses=[{"from": "2027-04-05", "until": "2027-04-09"}],
        ): None,
    }  # fmt: skip
    moment = utc(2027, 3, 8)
    while moment < utc(2027, 4, 19):
        await plan_once(services, moment)
        moment += timedelta(hours=6)

    async with services.sessions() as session:
        persons = {p.id: p for p in (await session.execute(select(Person))).scalars()}
        phases = {p.id: p for p in (await session.execute(select(Phase))).scalars()}
    rows = await deliveries(services)
    assert len(rows) > 40
    for person_id in people:
        person = persons[person_id]
        zone = ZoneInfo(person.timezone or "Europe/London")
        mine = [d for d in rows if d.person_id == person_id]
        local = [d.slot.astimezone(zone) for d in mine]
        assert mine, person.key
        assert all(person.work_starts <= t.time() < person.work_ends for t in local)
        assert all(t.weekday() in person.working_days for t in local)
        assert not [t for t in local if is_bank_holiday(t.date())]
        assert not [t for t in local if date(2027, 4, 5) <= t.date() <= date(2027, 4, 9)] or (
            person.key != "part-time"
        )
        assert max(Counter(t.isocalendar()[:2] for t in local).values()) <= 3
        keys = [d.prompt_key for d in mine]
        assert all(a != b for a, b in itertools.pairwise(keys)), person.key
        for delivery, when in zip(mine, local, strict=True):
            phase = phases[delivery.phase_id]  # type: ignore[index]
            assert phase.starts_on <= when.date() <= phase.ends_on
            if delivery.research_question_id is not None:
                assert RQ_TEXT.rstrip("?") in delivery.prompt_text


async def test_a_carry_forward_prompt_quotes_the_persons_answer_once(services: Services) -> None:
    project_id = await make_project(services)
    person_id = await make_person(services, "amy", [project_id])
    plan = "Run a drop-in at the school gates on Fridays"
    async with transaction(services.sessions) as session:
        asked = Delivery(
            person_id=person_id, project_id=project_id, slot=utc(2027, 7, 6, 9, 30),
            due_at=utc(2027, 7, 6, 9, 30), prompt_key="testing-next-step", prompt_kind="text",
            prompt_text="What small change will you try before the end of this cycle?",
            status="answered", answered_at=utc(2027, 7, 6, 10),
        )  # fmt: skip
        session.add(asked)
        await session.flush()
        session.add(
            Reflection(
                person_id=person_id, project_id=project_id, delivery_id=asked.id, kind="text",
                text=plan, audience="team", channel="webchat", created_at=utc(2027, 7, 6, 10),
            )
        )  # fmt: skip

    await plan_once(services, utc(2027, 7, 12), horizon=timedelta(days=14))

    planned = await deliveries(services, status="planned")
    quoting = [d for d in planned if plan in d.prompt_text]
    assert len(planned) == 4
    assert [d.prompt_key for d in quoting] == ["cf-testing-followup"]
    assert quoting[0].prompt_text == f"Last cycle you planned: '{plan}' — what happened?"


async def test_planned_prompts_are_called_off_when_a_person_withdraws_pauses_or_takes_leave(
    services: Services,
) -> None:
    project_id = await make_project(services)
    ids = [await make_person(services, key, [project_id]) for key in ("a", "b", "c", "d", "e")]
    await plan_once(services, MONDAY, horizon=timedelta(days=7))
    sent = (await deliveries(services, person_id=ids[0]))[0]
    async with transaction(services.sessions) as session:
        await session.execute(
            update(Delivery).where(Delivery.id == sent.id).values(status="sent", sent_at=sent.slot)
        )
        changes: list[tuple[int, dict[str, Any]]] = [
            (ids[0], {"withdrawn_at": utc(2027, 3, 22, 8)}),
            (ids[1], {"paused_until": date(2027, 3, 26)}),
            (ids[2], {"pauses": [{"from": "2027-03-25", "until": "2027-03-31"}]}),
            (ids[3], {"work_starts": time(12, 0)}),
        ]
        for person_id, values in changes:
            await session.execute(update(Person).where(Person.id == person_id).values(**values))

    now = MONDAY + timedelta(hours=8)
    await plan_once(services, now, horizon=timedelta(days=7))

    def statuses(person_id: int) -> list[tuple[str, int, str | None]]:
        return [(d.status, d.slot.day, d.last_error) for d in rows if d.person_id == person_id]

    rows = await deliveries(services)
    assert [s[:2] for s in statuses(ids[0])] == [("sent", 23), ("skipped", 25)]
    assert [s[:2] for s in statuses(ids[1])] == [("skipped", 23), ("skipped", 25)]
    assert [s[:2] for s in statuses(ids[2])] == [("planned", 23), ("cancelled", 25)]
    assert statuses(ids[2])[1][2] == "it falls in the person's leave"
    # 10:30 is before their new start: called off, and 12:00 planned instead
    assert [s[:2] for s in statuses(ids[3])] == [
        ("cancelled", 23), ("planned", 23), ("cancelled", 25), ("planned", 25),
    ]  # fmt: skip
    assert [s[:2] for s in statuses(ids[4])] == [("planned", 23), ("planned", 25)]
    assert Counter(d.status_reason for d in rows if d.status_at == now) == {
        "withdrawn": 1, "paused": 2, "leave": 1, "hours": 2,
    }  # fmt: skip
    for delivery in rows:
        if delivery.status_at == now:  # each cause ends where the table says, in its words
            transition = transition_for(delivery.status, delivery.status_reason or "")
            assert delivery.last_error == transition.why
        if delivery.status == "skipped":
            assert delivery.skipped_at == now and delivery.cancelled_at is None
        if delivery.status == "cancelled":
            assert delivery.cancelled_at == now


async def test_planned_prompts_are_cancelled_when_their_phase_ends_early(
    services: Services,
) -> None:
    project_id = await make_project(services)
    await make_person(services, "amy", [project_id])
    await plan_once(services, MONDAY, horizon=timedelta(days=7))
    async with transaction(services.sessions) as session:
        await session.execute(
            update(Phase).where(Phase.key == "exploring-evidence").values(ends_on=date(2027, 3, 24))
        )
        await session.execute(update(Phase).where(Phase.key == "testing-change").values(
            starts_on=date(2027, 3, 29)))  # fmt: skip

    await plan_once(services, MONDAY + timedelta(hours=1), horizon=timedelta(days=7))

    assert [(d.status, d.slot.day) for d in await deliveries(services)] == [
        ("planned", 23),
        ("cancelled", 25),
    ]


def test_a_prompt_planned_between_two_others_differs_from_both_neighbours() -> None:
    timeline = [
        (utc(2027, 3, 1, 10), "q1"),
        (utc(2027, 3, 3, 10), "q2"),
        (utc(2027, 3, 8, 10), "q3"),
    ]
    items = [{"key": f"q{n}", "kind": "text", "text": f"Question {n}?"} for n in (1, 2, 3, 4)]
    library = load_library({"prompts": {"mode": "replace", "items": items}})

    before, after = neighbours(timeline, utc(2027, 3, 5, 10))
    chosen = {
        library.choose("scoping", [], [], before, {}, seed=str(n), avoid=after).key
        for n in range(30)
    }

    assert (before, after) == (["q2", "q1"], ["q3"])
    assert neighbours(timeline, utc(2027, 3, 9, 10)) == (["q3", "q2", "q1"], [])
    assert chosen <= {"q1", "q4"} and "q4" in chosen


async def test_a_studys_own_prompts_are_asked_in_turn(services: Services) -> None:
    items = [
        {"key": "went-well", "kind": "text", "text": "What went well this week?"},
        {
            "key": "energy",
            "kind": "scale",
            "text": "How much energy did the project take?",
            "labels": {"1": "Very little", "5": "A lot"},  # as stored: JSON keys are strings
        },
    ]
    async with transaction(services.sessions) as session:
        session.add(
            Study(slug="wws", name="WWS", options={"prompts": {"mode": "replace", "items": items}})
        )
    project_id = await make_project(services)
    await make_person(services, "amy", [project_id])

    await plan_once(services, MONDAY, horizon=timedelta(days=21))

    planned = await deliveries(services)
    assert [d.prompt_key for d in planned] == ["went-well", "energy"] * 3 or [
        d.prompt_key for d in planned
    ] == ["energy", "went-well"] * 3
    energy = next(d for d in planned if d.prompt_key == "energy")
    assert energy.prompt_options[0] == {"value": "1", "label": "1 – Very little"}


async def test_one_persons_unknown_time_zone_does_not_stop_everyone_elses_prompts(
    services: Services,
) -> None:
    project_id = await make_project(services)
    await make_person(services, "lost", [project_id], timezone="Mars/Olympus_Mons")
    fine = await make_person(services, "fine", [project_id])

    assert await plan_once(services, MONDAY) == 1
    assert [d.person_id for d in await deliveries(services)] == [fine]


async def test_a_prompt_called_off_for_leave_is_planned_again_when_the_leave_is_taken_back(
    any_services: Services,
) -> None:
    services = any_services
    project_id = await make_project(services)
    person_id = await make_person(services, "cal", [project_id])
    await plan_once(services, MONDAY, horizon=timedelta(days=7))
    leave = [{"from": "2027-03-25", "until": "2027-03-31"}]
    async with transaction(services.sessions) as session:
        await session.execute(update(Person).where(Person.id == person_id).values(pauses=leave))
    await plan_once(services, MONDAY + timedelta(hours=1), horizon=timedelta(days=7))
    assert [(d.status, d.slot.day) for d in await deliveries(services)] == [
        ("planned", 23),
        ("cancelled", 25),
    ]
    async with transaction(services.sessions) as session:
        await session.execute(update(Person).where(Person.id == person_id).values(pauses=[]))

    revived = await plan_once(services, MONDAY + timedelta(hours=2), horizon=timedelta(days=7))
    again = await plan_once(services, MONDAY + timedelta(hours=3), horizon=timedelta(days=7))

    rows = await deliveries(services)
    assert (revived, again) == (1, 0)
    assert [(d.status, d.slot.day) for d in rows] == [("planned", 23), ("planned", 25)]
    assert rows[1].cancelled_at is None and rows[1].last_error is None
    assert rows[1].due_at == rows[1].slot


async def test_a_sent_prompt_is_never_planned_again(services: Services) -> None:
    project_id = await make_project(services)
    await make_person(services, "sam", [project_id])
    await plan_once(services, MONDAY, horizon=timedelta(days=7))
    first = (await deliveries(services))[0]
    async with transaction(services.sessions) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == first.id)
            .values(status="cancelled", sent_at=first.slot)  # e.g. sent, then the person stopped
        )

    assert await plan_once(services, MONDAY + timedelta(hours=1), horizon=timedelta(days=7)) == 0
    assert (await deliveries(services))[0].status == "cancelled"


async def set_person(services: Services, person_id: int, **values: Any) -> None:
    async with transaction(services.sessions) as session:
        await session.execute(update(Person).where(Person.id == person_id).values(**values))


async def test_pause_then_resume_brings_back_the_prompts_of_the_lifted_days(
    any_services: Services,
) -> None:
    services = any_services
    project_id = await make_project(services)
    person_id = await make_person(services, "pat", [project_id])
    await plan_once(services, MONDAY, horizon=timedelta(days=7))
    await set_person(services, person_id, paused_until=date(2027, 3, 26))
    await plan_once(services, MONDAY + timedelta(hours=1), horizon=timedelta(days=7))
    paused = await deliveries(services)
    assert [(d.status, d.status_reason, d.slot.day) for d in paused] == [
        ("skipped", "paused", 23),
        ("skipped", "paused", 25),
    ]

    # resumed on Wednesday: Tuesday's prompt has gone by, Thursday's is still ahead
    wednesday = MONDAY + timedelta(days=2, hours=9)
    await set_person(services, person_id, paused_until=None)
    revived = await plan_once(services, wednesday, horizon=timedelta(days=2))
    again = await plan_once(services, wednesday + timedelta(minutes=1), horizon=timedelta(days=2))

    rows = await deliveries(services)
    assert (revived, again) == (1, 0)
    assert [(d.status, d.status_reason, d.slot.day) for d in rows] == [
        ("skipped", "paused", 23),
        ("planned", "replanned", 25),
    ]
    assert (rows[1].skipped_at, rows[1].last_error, rows[1].due_at) == (None, None, rows[1].slot)


async def test_a_prompt_called_off_for_new_hours_comes_back_when_the_hours_change_back(
    services: Services,
) -> None:
    project_id = await make_project(services)
    person_id = await make_person(services, "hal", [project_id])
    await plan_once(services, MONDAY, horizon=timedelta(days=7))
    await set_person(services, person_id, work_starts=time(12, 0))
    assert await tidy_planned(services, MONDAY + timedelta(hours=1)) == 2  # the call-off step
    assert {d.status_reason for d in await deliveries(services)} == {"hours"}
    await set_person(services, person_id, work_starts=time(9, 0))

    await plan_once(services, MONDAY + timedelta(hours=2), horizon=timedelta(days=7))

    rows = await deliveries(services)
    assert [(d.status, d.status_reason, d.slot.day) for d in rows] == [
        ("planned", "replanned", 23),
        ("planned", "replanned", 25),
    ]


async def test_a_prompt_the_person_skipped_is_not_planned_again(services: Services) -> None:
    project_id = await make_project(services)
    await make_person(services, "sky", [project_id])
    await plan_once(services, MONDAY, horizon=timedelta(days=7))
    [first, _] = await deliveries(services)
    async with transaction(services.sessions) as session:
        await move(session, first.id, "skipped", "skipped_by_person", MONDAY)

    assert await plan_once(services, MONDAY + timedelta(hours=1), horizon=timedelta(days=7)) == 0
    assert (await deliveries(services))[0].status == "skipped"
