"""Sign-up: a one-time code links a channel identity; consent is recorded with its version."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from bot.core.onboarding import hash_code, issue_link_code
from storage.models import (
    ChannelIdentity,
    ConsentRecord,
    InboundEvent,
    LinkCode,
    Person,
    Reflection,
    Study,
)
from tests.core.conftest import NOW, World
from tests.support.participants import make_delivery, make_person


async def _new_person(world: World, *, channel: str | None = "telegram") -> tuple[Person, str]:
    async with world.services.sessions() as session, session.begin():
        person, _ = await make_person(session, world.rows.project, name="Aileen Fraser")
        # this person has no Telegram identity yet: only their web chat one from make_person
        code = await issue_link_code(
            session, person, channel=channel, ttl=timedelta(days=7), now=NOW
        )
    return person, code


async def _without_consent(world: World, person: Person) -> None:
    async with world.services.sessions() as session, session.begin():
        for record in await session.scalars(
            select(ConsentRecord).where(ConsentRecord.person_id == person.id)
        ):
            await session.delete(record)


async def test_a_link_code_is_stored_only_as_a_hash(world: World) -> None:
    _person, code = await _new_person(world)

    async with world.services.sessions() as session:
        stored = list(await session.scalars(select(LinkCode)))
    assert len(stored) == 1
    assert stored[0].code_hash == hashlib.sha256(code.encode()).hexdigest() == hash_code(code)
    assert code not in repr(stored[0].__dict__)


async def test_start_with_a_code_links_the_sender_and_asks_for_consent(world: World) -> None:
    world.channel.name = "telegram"
    person, code = await _new_person(world)
    await _without_consent(world, person)

    await world.channel.say("tg-555", command="start", args=code)

    reply = world.channel.unique_reply()
    assert "Hello Aileen" in reply.text and "voluntary" in reply.text
    assert world.channel.choice_values(reply) == ["consent:yes", "consent:no"]
    async with world.services.sessions() as session:
        identity = await session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.external_id == "tg-555")
        )
        link = await session.scalar(select(LinkCode))
    assert identity is not None and identity.person_id == person.id
    assert link is not None and link.used_by_identity_id == identity.id


async def test_agreeing_records_the_consent_version_and_asks_the_default_audience(
    any_world: World,
) -> None:
    world = any_world
    async with world.services.sessions() as session, session.begin():
        session.add(
            Study(
                slug="wws",
                name="WWS",
                options={"consent": {"version": "2027-01", "text": "We keep what you say."}},
            )
        )
    world.channel.name = "telegram"
    person, code = await _new_person(world)
    await _without_consent(world, person)
    await world.channel.say("tg-1", f"/start {code}")
    assert "We keep what you say." in world.channel.unique_reply().text

    await world.channel.tap("tg-1", "consent:yes")

    reply = world.channel.unique_reply()
    assert "Who should see your answers" in reply.text
    assert world.channel.choice_values(reply) == [
        "audience:private",
        "audience:researchers",
        "audience:team_anonymous",
        "audience:team",
    ]
    async with world.services.sessions() as session:
        record = await session.scalar(
            select(ConsentRecord).where(ConsentRecord.person_id == person.id)
        )
    assert record is not None
    assert (record.version, record.channel) == ("2027-01", "telegram")
    assert record.text_sha256 == hashlib.sha256(b"We keep what you say.").hexdigest()

    await world.channel.tap("tg-1", "audience:researchers")
    assert "the researchers, without your name" in world.channel.unique_reply().text
    refreshed = await world.get(Person, person.id)
    assert refreshed.default_audience == "researchers"


async def test_a_code_works_only_once(world: World) -> None:
    world.channel.name = "telegram"
    _person, code = await _new_person(world)
    await world.channel.say("tg-1", f"link {code}")
    world.channel.new_texts()

    await world.channel.say("tg-2", f"link {code}")

    assert "didn't work" in world.channel.unique_reply().text
    async with world.services.sessions() as session:
        linked = list(await session.scalars(select(ChannelIdentity.external_id)))
    assert "tg-2" not in linked


async def test_an_expired_code_or_one_for_another_channel_is_refused(world: World) -> None:
    world.channel.name = "slack"
    _person, code = await _new_person(world, channel="telegram")
    await world.channel.say("U123", command="link", args=code)
    assert "didn't work" in world.channel.unique_reply().text

    world.channel.name = "telegram"
    world.clock.advance(timedelta(days=8))
    await world.channel.say("tg-9", command="start", args=code)
    assert "didn't work" in world.channel.unique_reply().text
    assert await world.count(InboundEvent) == 0


async def test_nothing_is_kept_before_consent_is_given(world: World) -> None:
    await _without_consent(world, world.person)

    await world.channel.say(world.who, "Here is my first thought")

    reply = world.channel.unique_reply()
    assert "Before I keep anything" in reply.text
    assert world.channel.choice_values(reply) == ["consent:yes", "consent:no"]
    assert await world.count(Reflection) == 0


async def test_declining_consent_keeps_nothing_and_says_how_to_change_your_mind(
    world: World,
) -> None:
    await _without_consent(world, world.person)

    await world.channel.tap(world.who, "consent:no")

    assert "send 'start'" in world.channel.unique_reply().text
    assert await world.count(ConsentRecord) == 0


async def test_after_agreeing_a_waiting_prompt_is_pointed_out(world: World) -> None:
    await _without_consent(world, world.person)
    async with world.services.sessions() as session, session.begin():
        await make_delivery(session, world.person, world.rows, sent_at=NOW - timedelta(hours=1))

    await world.channel.tap(world.who, "consent:yes")

    assert "There's a question waiting for you" in world.channel.unique_reply().text


async def test_an_unreachable_identity_that_writes_again_is_reachable_again(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        identity = await session.get(ChannelIdentity, world.identity.id)
        assert identity is not None
        identity.status, identity.status_reason = "unreachable", "bot was blocked by the user"

    await world.channel.say(world.who, "status")

    refreshed = await world.get(ChannelIdentity, world.identity.id)
    assert (refreshed.status, refreshed.status_reason) == ("active", None)


async def test_in_a_team_of_two_the_audience_question_says_no_name_cannot_hide_who_you_are(
    world: World,
) -> None:
    world.channel.name = "telegram"
    person, code = await _new_person(world)  # the second participant of the project
    await _without_consent(world, person)
    await world.channel.say("tg-2", f"/start {code}")
    world.channel.unique_reply()

    await world.channel.tap("tg-2", "consent:yes")

    reply = world.channel.unique_reply().text
    assert f"{world.rows.project.name} has fewer than 3 participants" in reply
    assert "'Team, no name' cannot hide who you are" in reply
    assert "the lead's weekly digest holds such answers back" in reply
    await world.channel.tap("tg-2", "audience:team_anonymous")
    assert "cannot hide who you are" in world.channel.unique_reply().text


async def test_in_a_team_of_three_the_audience_question_makes_no_such_warning(
    world: World,
) -> None:
    async with world.services.sessions() as session, session.begin():
        await make_person(session, world.rows.project, name="Calum Ross")
    world.channel.name = "telegram"
    person, code = await _new_person(world)  # the third participant
    await _without_consent(world, person)
    await world.channel.say("tg-3", f"/start {code}")
    world.channel.unique_reply()

    await world.channel.tap("tg-3", "consent:yes")

    reply = world.channel.unique_reply().text
    assert "Who should see your answers" in reply and "cannot hide" not in reply
