"""End to end: Telegram (real PTB, fake Bot API) → the conversation core → the database."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from adapters.telegram import COMMANDS, TelegramChannel
from bot.clock import FrozenClock
from bot.core import texts
from bot.core.conversation import Conversation
from bot.core.limits import ANSWER_LIMIT
from bot.core.onboarding import issue_link_code
from bot.engine.dispatch import dispatch_once
from bot.engine.lifecycle import remind_once
from bot.services import Services
from bot.web.app import create_app
from storage.models import (
    Attachment,
    ChannelIdentity,
    ConsentRecord,
    Delivery,
    InboundEvent,
    Person,
    Reflection,
)
from tests.fakes.stored import stored_data
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.support.participants import ProjectRows, make_delivery, make_person, make_project, seed
from tests.telegram.conftest import ANA, config_for, eventually, serving

# PTB itself reads RetryAfter.retry_after while building the error: not our deprecation to fix.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)  # a Tuesday morning, in the project's phase
BEN = 5151


@dataclass
class World:
    services: Services
    fake: FakeTelegramAPI
    channel: TelegramChannel
    rows: ProjectRows
    person: Person
    identity: ChannelIdentity

    async def count(self, model: type, *where: object) -> int:
        async with self.services.sessions() as session:
            query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
            return int(await session.scalar(query) or 0)

    async def dispatch(self) -> int:
        return await dispatch_once(self.services, {"telegram": self.channel}, NOW, worker="w1")

    async def reply_count(self, n: int) -> None:
        await eventually(lambda: len(self.fake.chat(ANA)) >= n)


@pytest.fixture
async def world(services: Services, fake: FakeTelegramAPI) -> AsyncIterator[World]:
    async def build(session):  # type: ignore[no-untyped-def]
        rows = await make_project(session)
        person, identity = await make_person(
            session,
            rows.project,
            name="Ana Silva",
            channel="telegram",
            external_id=str(ANA),
            now=NOW,
        )
        return rows, person, identity

    rows, person, identity = await seed(services, build)
    channel = TelegramChannel(config_for(fake, max_upload_bytes=1024))
    await channel.start(Conversation(services.with_clock(FrozenClock(NOW))).handle)
    try:
        yield World(services, fake, channel, rows, person, identity)
    finally:
        await channel.stop()


async def planned(world: World, kind: str = "text", person: Person | None = None) -> Delivery:
    async def build(session):  # type: ignore[no-untyped-def]
        return await make_delivery(
            session, person or world.person, world.rows, sent_at=NOW - timedelta(minutes=5),
            kind=kind, status="planned",
        )  # fmt: skip

    return await seed(world.services, build)


async def test_a_scale_prompt_is_answered_by_a_tap_and_the_prompt_shows_the_choice(
    world: World,
) -> None:
    delivery = await planned(world, "scale")
    assert await world.dispatch() == 1
    [prompt] = world.fake.chat(ANA)
    assert prompt.button_data == [f"{delivery.id}|{n}" for n in range(1, 6)]
    world.fake.add_update(world.fake.tap(ANA, prompt.message_id, f"{delivery.id}|4"))
    await world.reply_count(2)
    await eventually(lambda: not world.fake.chat(ANA)[0].buttons)  # edited after the reply
    prompt = world.fake.chat(ANA)[0]
    assert "✓" in prompt.text and "Quite well" in prompt.text
    async with world.services.sessions() as session:
        [reflection] = list(await session.scalars(select(Reflection)))
        answered = await session.get(Delivery, delivery.id)
    assert reflection.delivery_id == delivery.id and reflection.scale_value == 4
    assert answered is not None and answered.status == "answered"


async def test_a_text_prompt_is_answered_by_replying_to_it(world: World) -> None:
    delivery = await planned(world, "text")
    await world.dispatch()
    [prompt] = world.fake.chat(ANA)
    world.fake.add_update(
        world.fake.message(
            ANA,
            "Dads came to the Saturday session",
            reply_to_message={
                "message_id": prompt.message_id,
                "date": 0,
                "text": prompt.text,
                "chat": {"id": ANA, "type": "private"},
            },
        )
    )
    await world.reply_count(2)
    async with world.services.sessions() as session:
        [reflection] = list(await session.scalars(select(Reflection)))
    assert reflection.delivery_id == delivery.id
    assert reflection.text == "Dads came to the Saturday session"


async def test_a_plain_message_answers_the_open_prompt_and_a_plain_note_is_a_note(
    world: World,
) -> None:
    delivery = await planned(world, "text")
    await world.dispatch()
    world.fake.add_update(world.fake.message(ANA, "Dads came to the Saturday session"))
    await world.reply_count(2)
    world.fake.add_update(world.fake.message(ANA, "note The rota is on the fridge"))
    await world.reply_count(3)

    async with world.services.sessions() as session:
        answer, note = list(await session.scalars(select(Reflection).order_by(Reflection.id)))
    assert (answer.delivery_id, answer.text) == (delivery.id, "Dads came to the Saturday session")
    assert (note.kind, note.delivery_id, note.text) == ("note", None, "The rota is on the fridge")


async def test_a_forged_button_for_someone_elses_prompt_answers_nothing(world: World) -> None:
    async def other(session):  # type: ignore[no-untyped-def]
        ben, _ = await make_person(
            session, world.rows.project, name="Ben", channel="telegram", external_id=str(BEN)
        )
        return ben

    ben = await seed(world.services, other)
    bens_prompt = await planned(world, "scale", person=ben)
    world.fake.add_update(world.fake.tap(ANA, 1, f"{bens_prompt.id}|1"))
    await world.reply_count(1)
    assert world.fake.last_text(ANA) == texts.FORGED_DELIVERY
    assert await world.count(Reflection) == 0
    async with world.services.sessions() as session:
        untouched = await session.get(Delivery, bens_prompt.id)
    assert untouched is not None and untouched.status == "planned"


async def test_a_duplicate_update_id_is_stored_once_and_answered_once(world: World) -> None:
    update = world.fake.message(ANA, "/note the new rota works")
    update["update_id"] = 777
    world.fake.add_update(update)
    world.fake.add_update(dict(update))
    last = world.fake.add_update(world.fake.message(ANA, "/status"))
    await eventually(lambda: world.fake.confirmed_offset > last["update_id"])
    assert await world.count(Reflection) == 1
    assert await world.count(InboundEvent, InboundEvent.event_id == "777") == 1
    assert len(world.fake.chat(ANA)) == 2  # the note's confirmation and the status, no more


async def test_a_photo_is_kept_as_evidence_under_the_data_directory(world: World) -> None:
    photo = world.fake.add_file(b"\xff\xd8\xff a photo of the rota")
    world.fake.add_update(
        world.fake.message(ANA, caption="New rota", photo=[{**photo, "width": 9, "height": 9}])
    )
    await world.reply_count(1)
    async with world.services.sessions() as session:
        [attachment] = list(await session.scalars(select(Attachment)))
    assert attachment.kind == "photo"
    stored = world.services.settings.data_dir / attachment.path
    assert stored.read_bytes() == b"\xff\xd8\xff a photo of the rota"
    assert attachment.sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert attachment.size == len(b"\xff\xd8\xff a photo of the rota")


async def test_a_voice_note_over_the_limit_is_refused_and_nothing_is_kept(world: World) -> None:
    voice = world.fake.add_file(b"x" * 2048)
    world.fake.add_update(world.fake.message(ANA, voice={**voice, "duration": 60}))
    await world.reply_count(1)
    assert "too big" in world.fake.last_text(ANA)
    assert await world.count(Reflection) == 0 and await world.count(Attachment) == 0
    assert world.fake.calls_to("download") == []


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
async def test_every_listed_command_is_one_the_core_understands(world: World, command: str) -> None:
    world.fake.add_update(world.fake.message(ANA, f"/{command}"))
    await world.reply_count(1)
    assert "don't know the command" not in world.fake.last_text(ANA)


async def test_a_stranger_is_told_how_to_sign_up_and_nothing_is_kept(world: World) -> None:
    world.fake.add_update(world.fake.message(BEN, "hello?"))
    world.fake.add_update(world.fake.message(BEN, "/start"))
    await eventually(lambda: len(world.fake.chat(BEN)) == 2)
    assert [m.text for m in world.fake.chat(BEN)] == [texts.UNKNOWN_SENDER] * 2
    assert await world.count(InboundEvent) == 0
    assert await world.count(ChannelIdentity, ChannelIdentity.external_id == str(BEN)) == 0


async def test_bad_input_gets_a_clear_answer_and_changes_no_stored_data(world: World) -> None:
    bens_prompt = await planned(world, "scale")  # Ana's prompt, which Ben will try to answer
    before = await stored_data(world.services)
    group = {"id": -100555, "type": "group", "title": "Hub team"}
    big = world.fake.add_file(b"x" * 2048)

    world.fake.add_update(world.fake.message(ANA, "/frobnicate now"))
    world.fake.add_update(world.fake.message(ANA, "/note in the group", chat=group))
    world.fake.add_update(world.fake.message(ANA, document={**big, "file_name": "big.pdf"}))
    world.fake.add_update(world.fake.message(BEN, "/note I am not in the study"))
    last = world.fake.add_update(world.fake.tap(BEN, 1, f"{bens_prompt.id}|5"))
    await eventually(lambda: world.fake.confirmed_offset > last["update_id"])

    assert "don't know the command 'frobnicate'" in world.fake.chat(ANA)[0].text
    assert "too big" in world.fake.chat(ANA)[1].text
    assert "one to one" in world.fake.last_text(group["id"])
    assert world.fake.last_text(BEN) == texts.UNKNOWN_SENDER
    assert await stored_data(world.services) == before


async def test_start_with_a_wrong_code_explains_and_keeps_nothing(world: World) -> None:
    world.fake.add_update(world.fake.message(BEN, "/start WRONGCODE2345"))
    await eventually(lambda: world.fake.chat(BEN))
    assert world.fake.last_text(BEN) == texts.BAD_CODE
    assert await world.count(ChannelIdentity, ChannelIdentity.external_id == str(BEN)) == 0


async def test_sign_up_by_deep_link_then_consent_and_audience_by_tapping(world: World) -> None:
    async def newcomer(session):  # type: ignore[no-untyped-def]
        person, _ = await make_person(
            session, world.rows.project, name="Ben Okafor", consented=False
        )
        return await issue_link_code(
            session, person, channel="telegram", ttl=timedelta(days=7), now=NOW
        )

    code = await seed(world.services, newcomer)
    fake = world.fake
    fake.add_update(fake.message(BEN, f"/start {code}"))  # what t.me/<bot>?start=<code> sends
    await eventually(lambda: fake.chat(BEN))
    welcome = fake.chat(BEN)[-1]
    assert welcome.text.startswith("Hello Ben")
    assert "|consent:yes" in welcome.button_data
    fake.add_update(fake.tap(BEN, welcome.message_id, "|consent:yes"))
    await eventually(lambda: len(fake.chat(BEN)) >= 2 and fake.chat(BEN)[-1].buttons)
    audience = fake.chat(BEN)[-1]
    assert "|audience:team" in audience.button_data
    fake.add_update(fake.tap(BEN, audience.message_id, "|audience:team"))
    await eventually(lambda: len(fake.chat(BEN)) == 3 and not fake.chat(BEN)[1].buttons)
    assert "your team, with your name" in fake.last_text(BEN)
    consent, audience, _ = fake.chat(BEN)
    assert consent.buttons == [] and consent.text.endswith("✓ I agree")  # the tap shows on it
    assert audience.buttons == [] and audience.text.endswith("✓ Team, named")
    async with world.services.sessions() as session:
        identity = await session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.external_id == str(BEN))
        )
        assert identity is not None and identity.channel == "telegram"
        consents = await session.scalar(
            select(func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.person_id == identity.person_id)
        )
    assert consents == 1


async def test_a_blocked_bot_marks_the_identity_unreachable(world: World) -> None:
    delivery = await planned(world, "text")
    world.fake.fail("sendMessage", 403)
    await world.dispatch()
    async with world.services.sessions() as session:
        identity = await session.get(ChannelIdentity, world.identity.id)
        failed = await session.get(Delivery, delivery.id)
    assert identity is not None and identity.status == "unreachable"
    assert failed is not None and failed.status == "failed"


async def test_a_server_error_during_dispatch_is_retried_and_sent_once(world: World) -> None:
    delivery = await planned(world, "text")
    world.fake.fail("sendMessage", 502)
    assert await world.dispatch() == 1
    assert len(world.fake.chat(ANA)) == 1
    async with world.services.sessions() as session:
        sent = await session.get(Delivery, delivery.id)
    assert sent is not None and sent.status == "sent"
    assert sent.message_ref == f"{ANA}:{world.fake.chat(ANA)[0].message_id}"


async def test_a_429_during_dispatch_is_waited_out_and_sent_once(world: World) -> None:
    await planned(world, "text")
    world.fake.fail("sendMessage", 429, retry_after=1)
    assert await world.dispatch() == 1
    assert [c.status for c in world.fake.calls_to("sendMessage")] == [429, 200]
    assert len(world.fake.chat(ANA)) == 1


async def test_in_webhook_mode_a_resent_update_is_stored_once_and_a_bad_secret_stores_nothing(
    services: Services, fake: FakeTelegramAPI
) -> None:
    async def build(session):  # type: ignore[no-untyped-def]
        rows = await make_project(session)
        await make_person(session, rows.project, channel="telegram", external_id=str(ANA), now=NOW)

    await seed(services, build)
    channel = TelegramChannel(
        config_for(
            fake, mode="webhook", webhook_secret="webhook-secret-1",
            webhook_url="https://carbot.example.org/telegram/webhook",
        )
    )  # fmt: skip
    async with serving(create_app(services, [channel])) as base:
        await channel.start(Conversation(services.with_clock(FrozenClock(NOW))).handle)
        fake.webhook_url = f"{base}/telegram/webhook"
        try:
            forged = fake.message(ANA, "/note someone else's words")
            assert await fake.push_webhook(forged, secret="guess") == 403
            update = fake.message(ANA, "/note the rota works")
            update["update_id"] = 4242
            assert await fake.push_webhook(update) == 200
            assert await fake.push_webhook(update) == 200  # Telegram resent it
        finally:
            await channel.stop()
    async with services.sessions() as session:
        reflections = list(await session.scalars(select(Reflection)))
        events = list(await session.scalars(select(InboundEvent)))
    assert [r.text for r in reflections] == ["the rota works"]
    assert [e.event_id for e in events] == ["4242"]
    assert len(fake.chat(ANA)) == 1


@pytest.mark.parametrize("data", ["2147483648|3", "99999999999999999999|3", "²|3", "٣|3", "+1|3"])
async def test_a_button_naming_an_impossible_delivery_id_is_refused_before_the_database(
    world: World, data: str
) -> None:
    before = await stored_data(world.services)
    last = world.fake.add_update(world.fake.tap(ANA, 1, data))
    await eventually(lambda: world.fake.confirmed_offset > last["update_id"])
    [answer] = world.fake.calls_to("answerCallbackQuery")
    assert (
        answer.params["text"]
        == "That button no longer works. Please answer by replying to the question."
    )
    assert await stored_data(world.services) == before


async def test_an_update_the_sdk_cannot_read_is_skipped_unlogged_and_the_next_is_answered(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    chatless = {"message": {"message_id": 1, "date": 0, "chat": {"id": ANA}, "text": "my secret"}}
    broken = [
        world.fake.add_update(chatless),  # a chat without its type: PTB cannot read it
        world.fake.add_update({"message": "my secret, as a string"}),
        world.fake.add_update({"callback_query": {"id": "x", "data": "my secret"}}),
    ]
    good = world.fake.add_update(world.fake.message(ANA, "/note the rota works"))
    await eventually(lambda: world.fake.confirmed_offset > good["update_id"])

    assert await world.count(Reflection) == 1  # the note after the unreadable ones
    skipped = [r for r in caplog.records if r.getMessage().startswith("Skipped Telegram update")]
    assert [r.getMessage().split()[3] for r in skipped] == [f"{u['update_id']}:" for u in broken]
    above_debug = [r for r in caplog.records if r.levelno > logging.DEBUG]
    assert not any("my secret" in r.getMessage() for r in above_debug)
    assert all(r.exc_info is None for r in skipped)


@pytest.mark.parametrize("fault", ["429", "500", "stall"])
async def test_a_failed_edit_of_the_answered_prompt_never_holds_back_the_reply(
    world: World, fault: str
) -> None:
    await world.channel.stop()  # the same channel, with a one-second budget for each call
    world.channel = TelegramChannel(config_for(world.fake, request_timeout=1.0))
    await world.channel.start(Conversation(world.services.with_clock(FrozenClock(NOW))).handle)
    delivery = await planned(world, "scale")
    assert await world.dispatch() == 1
    [prompt] = world.fake.chat(ANA)
    for method in ("editMessageText", "editMessageReplyMarkup"):
        if fault == "stall":
            world.fake.stall(method, 30, times=3)
        else:
            world.fake.fail(method, int(fault), retry_after=60, times=10)
    world.fake.add_update(world.fake.tap(ANA, prompt.message_id, f"{delivery.id}|4"))

    await eventually(lambda: len(world.fake.chat(ANA)) >= 2, within=3.0)
    assert await world.count(Reflection) == 1


async def test_the_longest_message_telegram_carries_is_kept_whole_within_the_answer_limit(
    world: World,
) -> None:
    """Telegram stops a message at 4,096 characters, under carbot's answer limit: never cut."""
    assert ANSWER_LIMIT >= 4096
    words = "Ó" * (4096 - len("/note "))
    world.fake.add_update(world.fake.message(ANA, f"/note {words}"))
    await world.reply_count(1)
    async with world.services.sessions() as session:
        [reflection] = list(await session.scalars(select(Reflection)))
    assert reflection.text == words


async def test_a_tap_on_the_reminder_takes_the_buttons_off_the_reminder_and_the_prompt(
    world: World,
) -> None:
    delivery = await planned(world, "scale")
    assert await world.dispatch() == 1
    async with world.services.sessions() as session, session.begin():
        row = await session.get(Delivery, delivery.id)
        assert row is not None
        row.remind_at = NOW
    channels = {"telegram": world.channel}
    assert await remind_once(world.services, channels, NOW, worker="w1") == 1
    prompt, reminder = world.fake.chat(ANA)
    assert prompt.buttons and reminder.buttons

    world.fake.add_update(world.fake.tap(ANA, reminder.message_id, f"{delivery.id}|4"))

    await world.reply_count(3)
    await eventually(lambda: not any(m.buttons for m in world.fake.chat(ANA)[:2]))
    prompt, reminder = world.fake.chat(ANA)[:2]
    assert "✓" in reminder.text and "Quite well" in reminder.text
    async with world.services.sessions() as session:
        answered = await session.get(Delivery, delivery.id)
    assert answered is not None and answered.status == "answered"
