"""End to end: signed Slack requests → the real Bolt app → the conversation core → the database."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.base import Choice, OutboundPrompt, Recipient
from bot.channels.slack import home_view_for
from bot.channels.slack_link import EmailLinker
from bot.clock import FrozenClock
from bot.core import Conversation
from bot.core.limits import ANSWER_LIMIT
from bot.core.onboarding import issue_link_code
from bot.services import Services
from storage.models import (
    Attachment,
    ChannelIdentity,
    ConsentRecord,
    Delivery,
    InboundEvent,
    Person,
    Reflection,
)
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.slack.conftest import NOW, MakeSlack, make_alex
from tests.slack.payloads import (
    DM,
    USER,
    SlackRequests,
    buttons,
    dm_event,
    prompt_tap,
    shown_text,
    view_submission_payload,
)
from tests.support.participants import SCALE, make_delivery, make_person, make_project, seed

ALEX = Recipient(identity_id=0, external_id=USER, workspace=TEAM)


async def count(services: Services, model: type) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def services(any_services: Services) -> Services:
    """Every test here runs on SQLite and, when configured, on PostgreSQL."""
    return any_services


@pytest.fixture
async def slack(make_slack: MakeSlack, services: Services) -> SlackRequests:
    conversation = Conversation(services.with_clock(FrozenClock(NOW)))
    return await make_slack(conversation.handle, max_upload_bytes=1000)


@pytest.fixture
async def alex(services: Services):  # type: ignore[no-untyped-def]
    """A consented participant whose Slack account is linked, with a project."""
    return await seed(services, make_alex)


async def sent_prompt(services: Services, slack: SlackRequests, alex, kind: str) -> Delivery:  # type: ignore[no-untyped-def]
    rows, person, identity = alex
    text = "How well does the hub reach new parents?" if kind == "scale" else "What surprised you?"
    delivery = await seed(
        services,
        lambda s: make_delivery(
            s,
            person,
            rows,
            sent_at=NOW - timedelta(hours=1),
            kind=kind,
            text=text,
            identity=identity,
        ),
    )
    choices = tuple(Choice(o["value"], o["label"]) for o in SCALE) if kind == "scale" else ()
    ref = await slack.channel.send_prompt(ALEX, OutboundPrompt(delivery.id, kind, text, choices))  # type: ignore[arg-type]
    async with services.sessions() as session, session.begin():
        stored = await session.get(Delivery, delivery.id)
        assert stored is not None
        stored.message_ref = ref.ref
    delivery.message_ref = ref.ref
    return delivery


def ts_of(delivery: Delivery) -> str:
    assert delivery.message_ref
    return delivery.message_ref.split(":")[1]


async def test_someone_links_with_a_code_in_the_dm_and_agrees_with_a_button(
    slack: SlackRequests, services: Services, fake_slack: FakeSlack
) -> None:
    async def person_with_code(session):  # type: ignore[no-untyped-def]
        await make_project(session)
        person = Person(key="sam", study_code="P9001", name="Sam")
        session.add(person)
        await session.flush()
        return await issue_link_code(
            session, person, channel="slack", ttl=timedelta(days=7), now=NOW
        )

    code = await seed(services, person_with_code)

    await slack.event(dm_event(f"link {code}"))

    async with services.sessions() as session:
        identity = await session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.channel == "slack")
        )
    assert identity is not None
    assert (identity.workspace, identity.external_id) == (TEAM, USER)
    _conversation, consent_ts = list(fake_slack.messages)[-1]
    consent = fake_slack.messages[(DM, consent_ts)]
    assert [b["text"]["text"] for b in buttons(consent)] == ["I agree", "No thanks"]
    assert await count(services, ConsentRecord) == 0

    await slack.interact(prompt_tap(fake_slack, consent_ts, buttons(consent)[0]))

    assert await count(services, ConsentRecord) == 1
    [update] = fake_slack.calls_to("chat.update")
    assert "I agree" in shown_text(update.params)
    assert buttons(update.params) == []


async def test_tapping_4_on_a_scale_prompt_stores_the_rating_and_updates_the_message(
    slack: SlackRequests,
    services: Services,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    delivery = await sent_prompt(services, slack, alex, "scale")
    four = buttons(fake_slack.messages[(DM, ts_of(delivery))])[3]

    await slack.interact(prompt_tap(fake_slack, ts_of(delivery), four))

    [reflection] = await _all(services, Reflection)
    assert (reflection.scale_value, reflection.delivery_id, reflection.channel) == (
        4,
        delivery.id,
        "slack",
    )
    stored = await _get(services, Delivery, delivery.id)
    assert stored.status == "answered"
    [update] = fake_slack.calls_to("chat.update")
    assert update.params["ts"] == ts_of(delivery)
    assert buttons(update.params) == []
    assert "Saved" in fake_slack.posted()[-1]["text"]


async def test_a_tap_on_the_reminder_takes_the_buttons_off_the_reminder_and_the_prompt(
    slack: SlackRequests,
    services: Services,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    delivery = await sent_prompt(services, slack, alex, "scale")
    choices = tuple(Choice(o["value"], o["label"]) for o in SCALE)
    reminder = OutboundPrompt(
        delivery.id, "scale", "How well?", choices, reminder=True, reminds=delivery.message_ref
    )
    reminder_ref = (await slack.channel.send_prompt(ALEX, reminder)).ref
    async with services.sessions() as session, session.begin():
        stored = await session.get(Delivery, delivery.id)
        assert stored is not None
        stored.status, stored.reminder_ref, stored.reminded_at = "reminded", reminder_ref, NOW
    reminder_ts = reminder_ref.split(":")[1]
    four = buttons(fake_slack.messages[(DM, reminder_ts)])[3]

    await slack.interact(prompt_tap(fake_slack, reminder_ts, four))

    assert (await _get(services, Delivery, delivery.id)).status == "answered"
    updated = {c.params["ts"] for c in fake_slack.calls_to("chat.update")}
    assert updated == {ts_of(delivery), reminder_ts}
    for ts in (ts_of(delivery), reminder_ts):
        assert buttons(fake_slack.messages[(DM, ts)]) == []
        assert "4" in shown_text(fake_slack.messages[(DM, ts)])


async def test_an_answer_written_in_the_modal_is_stored_against_its_prompt(
    slack: SlackRequests,
    services: Services,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    delivery = await sent_prompt(services, slack, alex, "text")
    [answer] = buttons(fake_slack.messages[(DM, ts_of(delivery))])
    await slack.interact(prompt_tap(fake_slack, ts_of(delivery), answer))
    modal = fake_slack.calls_to("views.open")[0].params["view"]

    await slack.interact(view_submission_payload(modal, "Dads came along too.\nAnd grandparents."))

    [reflection] = await _all(services, Reflection)
    assert reflection.text == "Dads came along too.\nAnd grandparents."
    assert reflection.delivery_id == delivery.id
    assert (await _get(services, Delivery, delivery.id)).status == "answered"
    assert any(c.params["ts"] == ts_of(delivery) for c in fake_slack.calls_to("chat.update"))


async def test_a_modal_naming_someone_elses_prompt_stores_nothing_against_it(
    slack: SlackRequests,
    services: Services,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    rows, _person, _identity = alex

    async def other_prompt(session):  # type: ignore[no-untyped-def]
        other, identity = await make_person(
            session,
            rows.project,
            name="Jo",
            channel="slack",
            external_id="U0JO",
            workspace=TEAM,
            now=NOW,
        )
        return await make_delivery(
            session, other, rows, sent_at=NOW - timedelta(hours=1), identity=identity
        )

    theirs = await seed(services, other_prompt)
    modal = {
        "id": "VFORGED",
        "callback_id": "carbot_answer",
        "private_metadata": json.dumps({"d": theirs.id, "ref": None}),
    }

    await slack.interact(view_submission_payload(modal, "Not my question"))

    reflections = await _all(services, Reflection)
    assert all(r.delivery_id != theirs.id for r in reflections)
    assert (await _get(services, Delivery, theirs.id)).status == "sent"


async def test_a_forged_a_stale_and_a_replayed_event_store_nothing_more(
    slack: SlackRequests,
    make_slack: MakeSlack,
    services: Services,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    forged = await slack.event(dm_event("forged note"), secret="wrong")
    stale = await slack.event(dm_event("stale note"), timestamp=int(time.time()) - 301)
    assert (forged.status_code, stale.status_code) == (401, 401)
    assert await count(services, Reflection) == 0
    assert await count(services, InboundEvent) == 0

    event = dm_event("note The hub had a queue at 9")
    await slack.event(event, event_id="EvReplay")
    # A second worker (no memory of the first) gets Slack's retry: the core refuses it.
    other_worker = await make_slack(Conversation(services.with_clock(FrozenClock(NOW))).handle)
    await other_worker.event(event, event_id="EvReplay", retry_num=1)

    assert await count(services, Reflection) == 1
    assert await count(services, InboundEvent) == 1


async def test_a_plain_dm_note_is_kept_as_a_note_without_the_word_note(
    slack: SlackRequests,
    services: Services,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    await slack.event(dm_event("note Parents asked for a Saturday session"))

    [reflection] = await _all(services, Reflection)
    assert (reflection.kind, reflection.text) == ("note", "Parents asked for a Saturday session")


async def test_a_dm_over_the_answer_limit_is_not_stored_and_the_reply_gives_limit_and_length(
    slack: SlackRequests,
    services: Services,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    response = await slack.event(dm_event("note " + "a" * 9000))

    assert response.status_code == 200
    [said] = [p["text"] for p in fake_slack.posted()]
    assert "9,005 characters" in said and f"the limit is {ANSWER_LIMIT:,}" in said
    assert await _all(services, Reflection) == []


async def test_a_photo_shared_in_the_dm_is_kept_as_evidence(
    slack: SlackRequests,
    services: Services,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    shared = fake_slack.add_file(b"\x89PNG planning board", name="board.png", mimetype="image/png")

    await slack.event(dm_event("note Our planning board", subtype="file_share", files=[shared]))

    [attachment] = await _all(services, Attachment)
    assert (attachment.kind, attachment.filename, attachment.size) == ("photo", "board.png", 19)
    path = Path(services.settings.data_dir) / attachment.path
    assert path.read_bytes() == b"\x89PNG planning board"


async def test_slash_carbot_pause_pauses_and_answers_privately(
    slack: SlackRequests,
    services: Services,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    response = await slack.command("pause 2 weeks")

    assert "paus" in response.json()["text"].lower()
    person = await _get(services, Person, alex[1].id)
    assert person.paused_until is not None


async def test_the_app_home_shows_recent_answers_with_their_audience(
    slack: SlackRequests,
    services: Services,
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]
) -> None:
    await slack.event(dm_event("note Parents asked for evening sessions"))

    view = await home_view_for(services.with_clock(FrozenClock(NOW)), TEAM, USER)

    assert view.name == "Alex"
    [recent] = view.recent
    assert "evening sessions" in recent.answer
    assert recent.audience == "Team, no name"
    assert view.audience == "audience:team_anonymous"
    assert (
        await home_view_for(services.with_clock(FrozenClock(NOW)), TEAM, "U0STRANGER")
    ).name is None


async def test_people_are_linked_by_slack_email_and_greeted_with_the_consent_question(
    slack: SlackRequests, services: Services, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    async def people(session):  # type: ignore[no-untyped-def]
        rows = await make_project(session)
        session.add_all(
            [
                Person(key="kim", study_code="P8001", name="Kim", email="kim@fife.gov.uk"),
                Person(key="lee", study_code="P8002", name="Lee", email="lee@fife.gov.uk"),
            ]
        )
        return rows

    await seed(services, people)
    fake_slack.users_by_email["kim@fife.gov.uk"] = "U0KIM"
    services.settings.slack_link_by_email = True
    linker = EmailLinker(services, slack.channel)

    assert await linker.run(NOW) == 1
    assert await linker.run(NOW) == 0  # Kim is linked; Lee was looked up and is not asked again

    async with services.sessions() as session:
        [identity] = await session.scalars(select(ChannelIdentity))
    assert (identity.channel, identity.workspace, identity.external_id) == ("slack", TEAM, "U0KIM")
    [greeting] = fake_slack.posted()
    assert "Kim" in greeting["text"]
    assert [b["text"]["text"] for b in buttons(greeting)] == ["I agree", "No thanks"]
    assert len(fake_slack.calls_to("users.lookupByEmail")) == 2


async def _all(services: Services, model: type) -> list:  # type: ignore[type-arg]
    async with services.sessions() as session:
        return list(await session.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]


async def _get(services: Services, model: type[Any], pk: int) -> Any:
    async with services.sessions() as session:
        found: Any = await session.get(model, pk)
        assert found is not None
        return found


async def test_carbot_run_links_by_email_on_the_digest_schedule_only_when_the_setting_is_on(
    slack: SlackRequests, services: Services
) -> None:
    from bot.engine.jobs import Jobs

    def step_names() -> list[str]:
        jobs = Jobs(services.with_clock(FrozenClock(NOW)), {"slack": slack.channel}, worker="w1")
        return [step.name for step in jobs.digest_steps()]

    assert "slack-link-by-email" not in step_names()
    services.settings.slack_link_by_email = True
    assert "slack-link-by-email" in step_names()
