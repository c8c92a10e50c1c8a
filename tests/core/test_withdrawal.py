"""Leaving the study: every word for it works, the person chooses to keep or delete what they
shared, and after withdrawal nothing of their messages is stored at all."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from adapters.base import InboundMessage
from bot.core import texts
from bot.core.commands import COMMANDS
from bot.core.parsing import parse_command
from storage.models import AuditLog, Base, ChannelIdentity, Person, Reflection
from tests.core.conftest import NOW, World
from tests.support.participants import make_delivery

DEMO_STUDY = Path(__file__).resolve().parents[2] / "examples" / "wws-demo.yaml"


async def _rows(world: World) -> dict[str, int]:
    """How many rows every table of the schema holds."""
    async with world.services.sessions() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def _files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


async def _answer(world: World, text: str, **kwargs: object) -> None:
    async with world.services.sessions() as session, session.begin():
        delivery = await make_delivery(
            session, world.person, world.rows, sent_at=NOW - timedelta(hours=1), **kwargs
        )  # type: ignore[arg-type]
    await world.channel.say(world.who, text, delivery_id=delivery.id)
    world.channel.new_texts()


@pytest.mark.parametrize(
    "word", ["stop", "withdraw", "Withdraw.", "leave", "opt out", "Opt-out", "/withdraw", "quit"]
)
async def test_every_word_for_leaving_withdraws_and_offers_keep_or_delete(
    world: World, word: str
) -> None:
    await world.channel.say(world.who, word)

    reply = world.channel.unique_reply()
    assert "You've left the study" in reply.text
    assert world.channel.choice_values(reply) == ["withdraw:keep", "withdraw:erase"]
    assert [c.label for c in reply.choices] == ["Keep what I shared", "Delete everything I shared"]
    assert (await world.get(Person, world.person.id)).withdrawn_at == NOW


async def test_after_withdrawal_no_message_adds_a_row_of_any_kind(world: World) -> None:
    await _answer(world, "The hub was busier than usual this week")
    await world.channel.say(world.who, "withdraw")
    world.channel.new_texts()
    before = await _rows(world)

    await world.channel.say(world.who, "One more thing about the hub")
    await world.channel.say(world.who, "note the rota changed again")
    await world.channel.upload(world.who, b"\xff\xd8 photo", text="the new sign")
    await world.channel.tap(world.who, "audience:team")
    await world.channel.say(world.who, "withdraw")
    await world.channel.tap(world.who, "withdraw:keep")

    assert await _rows(world) == before
    said = [t.text for t in world.channel.new_texts()]
    assert said[:4] == [texts.WITHDRAWN] * 4
    assert "You've left the study" in said[4]
    assert said[5] == texts.KEPT
    assert _files(Path(world.services.settings.data_dir)) == []


async def test_choosing_delete_erases_everything_they_shared_and_confirms(
    any_world: World,
) -> None:
    world = any_world
    await _answer(world, "The hub was busier than usual this week")
    await _answer(world, "4", kind="scale")
    await world.channel.say(world.who, "stop")
    world.channel.new_texts()

    await world.channel.tap(world.who, "withdraw:erase")

    assert world.channel.unique_reply().text == texts.ERASED
    async with world.services.sessions() as session:
        assert await session.get(Person, world.person.id) is None
        assert await session.scalar(select(func.count()).select_from(Reflection)) == 0
        assert await session.scalar(select(func.count()).select_from(ChannelIdentity)) == 0
        [line] = await session.scalars(select(AuditLog).where(AuditLog.action == "people.erase"))
    assert line.actor == "participant" and line.details["reason"] == "asked in chat"
    assert line.details["verified"] is True and line.details["counts"]["reflections"] == 2
    rows = await _rows(world)
    assert {name: n for name, n in rows.items() if n} == {
        "partnerships": 1,
        "projects": 1,
        "research_questions": 1,
        "cycles": 1,
        "phases": 1,
        "audit_log": 1,
    }
    await world.channel.say(world.who, "hello?")
    assert "I don't know you yet" in world.channel.unique_reply().text


async def test_my_data_counts_what_is_held_and_says_how_to_get_a_copy(world: World) -> None:
    await _answer(world, "The hub was busier than usual this week")
    await world.channel.say(world.who, "audience private last")
    world.channel.new_texts()

    await world.channel.say(world.who, "my data")

    reply = world.channel.unique_reply().text
    assert "• answers and notes: 1" in reply
    assert "• private ones: 1" in reply
    assert "• questions sent to you: 1" in reply
    assert "subject-access export" in reply and "send 'stop'" in reply


async def test_a_withdrawn_person_may_still_ask_what_is_held_and_nothing_is_stored(
    world: World,
) -> None:
    await world.channel.say(world.who, "stop")
    world.channel.new_texts()
    before = await _rows(world)

    await world.channel.say(world.who, "My data")

    assert "Here is what carbot holds about you" in world.channel.unique_reply().text
    assert await _rows(world) == before


def test_the_demo_consent_text_names_only_commands_that_work() -> None:
    study = yaml.safe_load(DEMO_STUDY.read_text(encoding="utf-8"))
    consent = study["study"]["consent"]["text"]
    quoted = re.findall(r'"([^"]+)"', consent)

    assert "stop" in quoted and "withdraw" in quoted
    for words in quoted:
        message = InboundMessage(
            channel="webchat", external_id="x", text=words, event_id="e", received_at=NOW
        )
        command = parse_command(message)
        assert command is not None and command[0] in COMMANDS, words


async def test_if_the_check_finds_something_left_the_person_is_told_it_is_not_finished(
    world: World,
) -> None:
    await world.channel.upload(world.who, b"\xff\xd8 the new sign", text="note the new sign")
    data_dir = Path(world.services.settings.data_dir)
    [stored] = _files(data_dir)
    (data_dir / "copied-by-hand.jpg").write_bytes(stored.read_bytes())
    await world.channel.say(world.who, "stop")
    world.channel.new_texts()

    await world.channel.tap(world.who, "withdraw:erase")

    assert world.channel.unique_reply().text == texts.ERASE_INCOMPLETE
    async with world.services.sessions() as session:
        [line] = await session.scalars(select(AuditLog).where(AuditLog.action == "people.erase"))
    assert line.details["verified"] is False and line.details["remaining"] == 1
