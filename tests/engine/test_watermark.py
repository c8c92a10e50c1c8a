"""The engine tick plans again only when something it depends on changed, or a slot is near."""

from __future__ import annotations

from datetime import timedelta

from bot.engine.watermark import Planner
from bot.services import Services
from storage.db import transaction
from storage.models import ChannelIdentity, ConsentRecord, Membership, Person
from tests.engine.world import TUESDAY_MORNING, make_world

MONDAY_MIDNIGHT = TUESDAY_MORNING.replace(hour=0) - timedelta(days=1)
LONG = timedelta(days=30)  # no periodic full run inside these tests


async def _add_participant(services: Services, project_id: int) -> None:
    async with transaction(services.sessions) as session:
        person = Person(key="newcomer", study_code="P9999", name="Newcomer")
        session.add(person)
        await session.flush()
        session.add_all(
            [
                Membership(person_id=person.id, project_id=project_id, role="participant"),
                ChannelIdentity(person_id=person.id, channel="webchat", external_id="web-new"),
                ConsentRecord(
                    person_id=person.id, version="1", text_sha256="0" * 64, channel="webchat"
                ),
            ]
        )


async def test_a_tick_with_nothing_new_plans_nothing_and_reads_no_one(services: Services) -> None:
    await make_world(services, people=3)
    planner = Planner(services, full_every=LONG)
    assert await planner.plan(MONDAY_MIDNIGHT) == 3  # Tuesday's prompts
    assert await planner.plan(MONDAY_MIDNIGHT + timedelta(minutes=1)) == 0  # its own rows: a run

    assert await planner.plan(MONDAY_MIDNIGHT + timedelta(minutes=2)) == 0
    assert planner.skipped == 1


async def test_a_participant_added_between_ticks_is_planned_at_the_next_tick(
    services: Services,
) -> None:
    world = await make_world(services, people=2)
    planner = Planner(services, full_every=LONG)
    await planner.plan(MONDAY_MIDNIGHT)
    await planner.plan(MONDAY_MIDNIGHT + timedelta(minutes=1))

    await _add_participant(services, world.project_id)

    assert await planner.plan(MONDAY_MIDNIGHT + timedelta(minutes=2)) == 1
    assert planner.skipped == 0


async def test_the_tick_whose_horizon_reaches_the_next_slot_plans_it(services: Services) -> None:
    await make_world(services, people=1)  # prompted on Tuesdays and Thursdays
    planner = Planner(services, full_every=LONG)
    assert await planner.plan(MONDAY_MIDNIGHT) == 1
    await planner.plan(MONDAY_MIDNIGHT + timedelta(minutes=1))
    assert await planner.plan(MONDAY_MIDNIGHT + timedelta(hours=12)) == 0
    assert planner.skipped == 1

    # Wednesday evening: the horizon (two days) now holds Thursday's slot
    assert await planner.plan(MONDAY_MIDNIGHT + timedelta(days=2, hours=20)) == 1
