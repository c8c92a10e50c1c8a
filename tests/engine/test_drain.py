"""The sending loop drains every due prompt at the channel's pace, not a batch per tick."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from adapters.base import OutboundPrompt, OutboundText, Recipient
from bot.clock import FrozenClock
from bot.engine.drain import drain
from bot.engine.jobs import Jobs
from bot.services import Services
from storage.models import Delivery
from tests.engine.test_two_dispatchers import plan_many
from tests.engine.world import TUESDAY_MORNING, make_world
from tests.support.transcript import TranscriptChannel


async def _statuses(services: Services) -> dict[tuple[str, str | None], int]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(Delivery.status, Delivery.lease_owner, func.count()).group_by(
                Delivery.status, Delivery.lease_owner
            )
        )
        return {(status, owner): n for status, owner, n in rows.all()}


async def test_one_pass_of_the_sending_loop_sends_every_due_prompt_not_a_batch_of_100(
    services: Services,
) -> None:
    world = await make_world(services, people=50)
    await plan_many(services, world, 250)
    channel = TranscriptChannel()
    jobs = Jobs(
        services.with_clock(FrozenClock(TUESDAY_MORNING)), {"webchat": channel}, worker="w1"
    )

    done = await jobs.run_steps(jobs.send_steps())

    assert done["dispatch"] == 250
    assert set(Counter(p.delivery_id for p in channel.prompts).values()) == {1}
    assert await _statuses(services) == {("sent", None): 250}


async def test_stopping_mid_drain_finishes_the_sends_under_way_and_hands_back_the_rest(
    services: Services,
) -> None:
    world = await make_world(services, people=50)
    await plan_many(services, world, 250)
    stop = asyncio.Event()

    async def stop_after_forty(_to: Recipient, _message: OutboundPrompt | OutboundText) -> None:
        await asyncio.sleep(0)
        if len(channel.prompts) >= 40:
            stop.set()

    channel = TranscriptChannel(on_send=stop_after_forty)
    clocked = services.with_clock(FrozenClock(TUESDAY_MORNING))

    sent = await drain(clocked, {"webchat": channel}, worker="w1", stop=stop)

    statuses = await _statuses(services)
    assert 40 <= sent == len(channel.prompts) < 250
    assert statuses == {("sent", None): sent, ("planned", None): 250 - sent}
