"""The scheduler only calls the steps; stopping it hands back what this worker holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from bot.clock import FrozenClock
from bot.engine.jobs import Jobs, Step, tick_for_speed
from bot.engine.leases import claim_due
from bot.services import Services
from tests.engine.world import TUESDAY_MORNING, get, make_world, plan
from tests.support.transcript import TranscriptChannel


async def test_one_engine_tick_sends_what_is_due_and_closes_what_has_expired(
    services: Services,
) -> None:
    world = await make_world(services, people=2)
    due = await plan(services, world, world.people[0], TUESDAY_MORNING)
    old = await plan(services, world, world.people[1], TUESDAY_MORNING - timedelta(days=5))
    clock = FrozenClock(TUESDAY_MORNING - timedelta(days=5))
    channel = TranscriptChannel()
    jobs = Jobs(services.with_clock(clock), {"webchat": channel}, worker="w1")
    await jobs.run_steps(jobs.engine_steps() + jobs.send_steps())
    assert (await get(services, old)).status == "sent"

    clock.current = TUESDAY_MORNING
    done = await jobs.run_steps(jobs.engine_steps() + jobs.send_steps())

    assert done["dispatch"] == 1 and done["expire"] == 1
    assert (await get(services, due)).status == "sent"
    assert (await get(services, old)).status == "expired"
    assert [p.delivery_id for p in channel.prompts] == [old, due]


async def test_the_scheduler_runs_the_steps_until_stopped_then_releases_held_deliveries(
    services: Services,
) -> None:
    world = await make_world(services, people=2)
    first = await plan(services, world, world.people[0], TUESDAY_MORNING)
    clock = FrozenClock(TUESDAY_MORNING)
    sent = asyncio.Event()

    async def noticed(*_: object) -> None:
        sent.set()

    channel = TranscriptChannel(on_send=noticed)
    jobs = Jobs(
        services.with_clock(clock), {"webchat": channel}, worker="w1", tick=0.2, digest_every=3600
    )
    jobs.start()
    try:
        await asyncio.wait_for(sent.wait(), timeout=10)
        # a delivery this worker claimed but had not sent when the stop came
        held = await plan(services, world, world.people[1], TUESDAY_MORNING)
        assert await claim_due(services, TUESDAY_MORNING, worker="w1", limit=5) == [held]
    finally:
        await jobs.stop()

    assert (await get(services, first)).status == "sent"
    row = await get(services, held)
    assert (row.status, row.lease_owner, row.attempts) == ("planned", None, 0)
    assert not jobs.scheduler.running


def test_the_demo_clock_ticks_faster_but_never_more_than_every_five_seconds() -> None:
    assert tick_for_speed(1) == 60
    assert tick_for_speed(6) == 10
    assert tick_for_speed(600) == 5


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(300):  # 15 s
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("waited 15 s in vain")


async def test_one_worker_sends_for_all_and_another_takes_over_when_it_stops(
    services: Services,
) -> None:
    world = await make_world(services, people=3)
    other = Services.from_settings(services.settings)  # a second worker: its own engine
    clock = FrozenClock(TUESDAY_MORNING)
    first_channel, second_channel = TranscriptChannel(), TranscriptChannel()
    first = Jobs(services.with_clock(clock), {"webchat": first_channel}, worker="w1", tick=0.2)
    second = Jobs(other.with_clock(clock), {"webchat": second_channel}, worker="w2", tick=0.2)
    first.start()
    try:
        await _until(lambda: first.leading)
        second.start()
        due = [await plan(services, world, person, TUESDAY_MORNING) for person in world.people[:2]]
        await _until(lambda: len(first_channel.prompts) == 2)
        await asyncio.sleep(1.5)  # the second worker has asked for the lead meanwhile
        assert not second.leading and second_channel.prompts == []

        await first.stop()
        later = await plan(services, world, world.people[2], TUESDAY_MORNING)
        await _until(lambda: len(second_channel.prompts) == 1)
    finally:
        await first.stop()
        await second.stop()
        await other.close()

    assert sorted(p.delivery_id for p in first_channel.prompts) == sorted(due)
    assert [p.delivery_id for p in second_channel.prompts] == [later]


async def test_a_workers_scheduled_jobs_take_turns_so_their_peaks_do_not_add_up(
    services: Services,
) -> None:
    running, most, ran = 0, 0, []

    def slow(name: str) -> Step:
        async def run(_now: object) -> int:
            nonlocal running, most
            running += 1
            most = max(most, running)
            ran.append(name)
            await asyncio.sleep(0.3)
            running -= 1
            return 0

        return Step(name, run)

    class Watched(Jobs):
        def engine_steps(self) -> list[Step]:
            return [slow("plan")]

        def digest_steps(self) -> list[Step]:
            return [slow("digests")]

        def retention_steps(self) -> list[Step]:
            return [slow("retention")]

    jobs = Watched(services, {}, worker="w1", tick=60)
    jobs.start()  # all three are first due one second after the start
    try:
        await _until(lambda: len(ran) >= 3 and running == 0)
    finally:
        await jobs.stop()

    assert sorted(ran) == ["digests", "plan", "retention"]
    assert most == 1
