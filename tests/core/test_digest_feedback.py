"""Member checking: a participant says whether a "What we heard" summary got it right."""

from __future__ import annotations

from storage.models import Digest, Reflection
from tests.core.conftest import World
from tests.support.participants import make_person


async def _digest(world: World, person_id: int) -> Digest:
    async with world.services.sessions() as session, session.begin():
        digest = Digest(
            kind="what_we_heard",
            recipient=f"person:{person_id}",
            person_id=person_id,
            scope=f"project:{world.rows.project.slug}",
            period="2027-W09",
        )
        session.add(digest)
    return digest


async def test_yes_is_stored_as_feedback_linked_to_the_summary(world: World) -> None:
    digest = await _digest(world, world.person.id)

    await world.channel.tap(world.who, f"heard:{digest.id}:yes")

    assert "got it right" in world.channel.unique_reply().text
    [feedback] = await world.all(Reflection)
    assert (feedback.kind, feedback.text, feedback.digest_id) == (
        "feedback",
        "That's right",
        digest.id,
    )
    assert feedback.project_id == world.rows.project.id


async def test_no_asks_whats_missing_and_keeps_the_next_message_as_feedback(
    world: World,
) -> None:
    digest = await _digest(world, world.person.id)

    await world.channel.tap(world.who, f"heard:{digest.id}:no")
    assert world.channel.unique_reply().text.startswith("What's missing?")
    await world.channel.say(world.who, "It left out the parents' worries about cost")

    [feedback] = await world.all(Reflection)
    assert (feedback.kind, feedback.digest_id) == ("feedback", digest.id)
    assert feedback.text == "It left out the parents' worries about cost"
    assert "passed that on" in world.channel.unique_reply().text

    await world.channel.say(world.who, "/note back to normal")
    assert (await world.all(Reflection))[-1].kind == "note"


async def test_someone_elses_summary_cannot_be_answered(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        other, _ = await make_person(session, world.rows.project, name="Someone Else")
    digest = await _digest(world, other.id)

    await world.channel.tap(world.who, f"heard:{digest.id}:yes")

    assert "can't find that summary" in world.channel.unique_reply().text
    assert await world.count(Reflection) == 0
