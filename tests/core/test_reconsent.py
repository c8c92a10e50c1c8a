"""A changed consent version is put to everyone who agreed to an earlier one: they are asked
again, with what changed, before their next prompt; until they agree nothing they send is kept
and no prompt goes out; both consent records are kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.engine.dispatch import dispatch_once
from bot.services import Services
from storage.models import ConsentRecord, Delivery, Reflection, Study
from tests.core.conftest import World
from tests.engine.world import TUESDAY_MORNING, get, make_world, plan
from tests.support.transcript import TranscriptChannel

OLD = "Your answers are seen by the research team.\nYou can leave at any time."
NEW = (
    "Your answers are seen by the research team.\n"
    "Anonymised answers may be shared with a commercial partner.\n"
    "You can leave at any time."
)


def _study(old_version: str) -> Study:
    return Study(
        slug="wws",
        name="WWS",
        options={
            "consent": {
                "version": "2",
                "text": NEW,
                "changes": "We added a commercial partner.",
            },
            "consent_texts": {old_version: OLD, "2": NEW},
        },
    )


async def test_a_new_consent_version_holds_storage_until_the_person_agrees_again(
    world: World,
) -> None:
    async with world.services.sessions() as session, session.begin():
        old = await session.scalar(select(ConsentRecord))
        assert old is not None
        session.add(_study(old.version))
    before = await world.count(Reflection)

    await world.channel.say(world.who, "The drop-in was busy today.")

    asked = world.channel.unique_reply()
    assert f"version {old.version} → 2" in asked.text
    assert "We added a commercial partner." in asked.text
    assert "+ Anonymised answers may be shared with a commercial partner." in asked.text
    assert world.channel.choice_values(asked) == ["consent:yes", "consent:no"]
    assert await world.count(Reflection) == before, "nothing is kept before they agree"

    await world.channel.tap(world.who, "consent:yes")
    assert "Thank you" in world.channel.unique_reply().text
    records = await world.all(ConsentRecord)
    assert [r.version for r in records] == [old.version, "2"], "both records are kept"

    await world.channel.say(world.who, "The drop-in was busy today.")
    assert await world.count(Reflection) == before + 1


async def test_declining_the_new_version_keeps_nothing_and_asks_again_next_time(
    world: World,
) -> None:
    async with world.services.sessions() as session, session.begin():
        old = await session.scalar(select(ConsentRecord))
        assert old is not None
        session.add(_study(old.version))
    await world.channel.say(world.who, "hello")
    world.channel.unique_reply()
    await world.channel.tap(world.who, "consent:no")
    world.channel.unique_reply()
    await world.channel.say(world.who, "A second try.")
    assert "version" in world.channel.unique_reply().text
    assert await world.count(Reflection) == 0


async def test_no_prompt_goes_out_until_the_person_agrees_to_the_current_version(
    services: Services,
) -> None:
    world = await make_world(services, people=2)
    async with services.sessions() as session, session.begin():
        session.add(_study("1"))
        # the second person already agreed to version 2
        session.add(
            ConsentRecord(
                person_id=world.people[1],
                version="2",
                text_sha256="1" * 64,
                channel="webchat",
                given_at=TUESDAY_MORNING - timedelta(days=1),
            )
        )
    held = await plan(services, world, world.people[0], TUESDAY_MORNING)
    sent = await plan(services, world, world.people[1], TUESDAY_MORNING)
    channel = TranscriptChannel()

    assert await dispatch_once(services, {"webchat": channel}, TUESDAY_MORNING, worker="w") == 1

    assert [p.delivery_id for p in channel.prompts] == [sent]
    asked = [t for t in channel.texts if "version 1 → 2" in t.text]
    assert len(asked) == 1 and "commercial partner" in asked[0].text
    assert (await get(services, held)).status == "skipped"
    assert "consent" in ((await get(services, held)).last_error or "")

    async with services.sessions() as session, session.begin():
        session.add(
            ConsentRecord(
                person_id=world.people[0],
                version="2",
                text_sha256="1" * 64,
                channel="webchat",
                given_at=TUESDAY_MORNING,
            )
        )
    later = TUESDAY_MORNING + timedelta(hours=1)
    again = await plan(services, world, world.people[0], later)
    assert await dispatch_once(services, {"webchat": channel}, later, worker="w") == 1
    assert channel.prompts[-1].delivery_id == again
    async with services.sessions() as session:
        statuses = dict((await session.execute(select(Delivery.id, Delivery.status))).all())
    assert statuses[again] == "sent"


async def test_a_prompt_sent_before_the_change_gets_no_reminder_until_they_agree(
    services: Services,
) -> None:
    from bot.engine.lifecycle import remind_once

    world = await make_world(services, people=1)
    delivery = await plan(services, world, world.people[0], TUESDAY_MORNING)
    channel = TranscriptChannel()
    assert await dispatch_once(services, {"webchat": channel}, TUESDAY_MORNING, worker="w") == 1
    remind_at = (await get(services, delivery)).remind_at
    assert remind_at is not None
    async with services.sessions() as session, session.begin():
        session.add(_study("1"))

    assert await remind_once(services, {"webchat": channel}, remind_at, worker="w") == 0
    assert len(channel.prompts) == 1, "only the prompt sent before the change"
