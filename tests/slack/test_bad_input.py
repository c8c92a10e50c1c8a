"""Bad input on Slack gets a clear answer and changes none of the stored data."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from adapters.slack import blocks as kit
from bot.core import texts
from bot.services import Services
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.fakes.stored import stored_data
from tests.slack.payloads import DM, SlackRequests, block_actions_payload, dm_event
from tests.slack.test_with_core import NOW, alex, services, slack  # noqa: F401  (fixtures)
from tests.support.participants import make_delivery, make_person, seed


async def test_bad_input_gets_a_clear_answer_and_changes_no_stored_data(
    slack: SlackRequests,  # noqa: F811
    services: Services,  # noqa: F811
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]  # noqa: F811
) -> None:
    rows, _person, _identity = alex

    async def jos_prompt(session):  # type: ignore[no-untyped-def]
        jo, identity = await make_person(
            session, rows.project, name="Jo", channel="slack", external_id="U0JO",
            workspace=TEAM, now=NOW,
        )  # fmt: skip
        return await make_delivery(
            session, jo, rows, sent_at=NOW - timedelta(hours=1), kind="scale", identity=identity
        )

    theirs = await seed(services, jos_prompt)
    before = await stored_data(services)
    big = fake_slack.add_file(b"x" * 2000, name="minutes.pdf", mimetype="application/pdf")
    forged_tap = block_actions_payload(
        {"type": "button", "action_id": f"{kit.CHOICE_ACTION}_3",
         "value": kit.choice_value("4", theirs.id), "text": {"type": "plain_text", "text": "4"}},
        message={"type": "message", "ts": "1800000000.000100", "text": "Jo's prompt"},
        container={"type": "message", "message_ts": "1800000000.000100", "channel_id": DM},
    )  # fmt: skip

    unknown = await slack.command("frobnicate now")
    await slack.event(dm_event("note the minutes", subtype="file_share", files=[big]))
    await slack.interact(forged_tap)
    await slack.event(dm_event("hello?", user="U0STRANGER"))
    forged = await slack.event(dm_event("note forged"), secret="not-the-secret")
    stale = await slack.event(dm_event("note stale"), timestamp=int(time.time()) - 301)

    assert "don't know the command 'frobnicate'" in unknown.json()["text"]
    said = [p["text"] for p in fake_slack.posted()]
    assert any("too big" in text for text in said)
    assert texts.FORGED_DELIVERY in said
    assert texts.UNKNOWN_SENDER in said
    assert (forged.status_code, stale.status_code) == (401, 401)
    assert fake_slack.calls_to("chat.update") == []  # no prompt shows an answer
    assert await stored_data(services) == before


@pytest.mark.parametrize(
    "text", ["note The hub was full", "pause 2 weeks", "resume", "status", "audience", "help"]
)
async def test_every_carbot_subcommand_is_one_the_core_understands(
    slack: SlackRequests,  # noqa: F811
    alex,  # type: ignore[no-untyped-def]  # noqa: F811
    text: str,
) -> None:
    response = await slack.command(text)

    answer = response.json()["text"]
    assert answer and "don't know the command" not in answer


@pytest.mark.parametrize(
    "value", ['{"v":"4","d":2147483648}', '{"v":"4","d":true}', '{"v":"4","d":1e3}']
)
async def test_a_button_value_with_an_impossible_delivery_id_is_ignored_and_stores_nothing(
    slack: SlackRequests,  # noqa: F811
    services: Services,  # noqa: F811
    fake_slack: FakeSlack,
    alex,  # type: ignore[no-untyped-def]  # noqa: F811
    value: str,
) -> None:
    before = await stored_data(services)
    tap = block_actions_payload(
        {"type": "button", "action_id": f"{kit.CHOICE_ACTION}_3", "value": value,
         "text": {"type": "plain_text", "text": "4"}},
        message={"type": "message", "ts": "1800000000.000100", "text": "A prompt"},
        container={"type": "message", "message_ts": "1800000000.000100", "channel_id": DM},
    )  # fmt: skip
    response = await slack.interact(tap)
    assert response.status_code == 200
    assert fake_slack.posted() == []
    assert await stored_data(services) == before
