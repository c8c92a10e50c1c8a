"""``/carbot`` and the App Home, through the real Bolt app with signed requests."""

from __future__ import annotations

from adapters.actions import Pause, decode
from adapters.base import Choice, InboundResult, OutboundText
from adapters.slack import HomeView, RecentAnswer
from adapters.slack.home import home_view
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.slack.conftest import MakeSlack, RecordingHandler
from tests.slack.payloads import (
    USER,
    SlackRequests,
    block_actions_payload,
    buttons,
    dm_event,
    shown_text,
)

AUDIENCES = (
    Choice("audience:private", "Only me"),
    Choice("audience:team", "Team, named"),
)


async def test_slash_carbot_note_reaches_the_core_as_a_command_and_replies_ephemerally(
    slack: SlackRequests, recorder: RecordingHandler, fake_slack: FakeSlack
) -> None:
    recorder.reply = lambda m: InboundResult(replies=[OutboundText("Note saved.")])

    response = await slack.command("note The hub ran out of leaflets")

    assert response.status_code == 200
    assert response.json()["text"] == "Note saved."
    [message] = recorder.messages
    assert (message.command, message.args) == ("note", "The hub ran out of leaflets")
    assert (message.external_id, message.workspace) == (USER, TEAM)
    assert fake_slack.posted() == []  # the answer was the ephemeral reply


async def test_slash_carbot_alone_asks_for_help(
    slack: SlackRequests, recorder: RecordingHandler
) -> None:
    await slack.command("")

    assert recorder.messages[0].command == "help"


async def test_slash_carbot_link_passes_the_code(
    slack: SlackRequests, recorder: RecordingHandler
) -> None:
    await slack.command("link ABCD-EFGH-JKLM")

    assert (recorder.messages[0].command, recorder.messages[0].args) == ("link", "ABCD-EFGH-JKLM")


async def test_audience_buttons_in_an_ephemeral_reply_are_replaced_through_the_response_url(
    slack: SlackRequests, recorder: RecordingHandler, fake_slack: FakeSlack
) -> None:
    recorder.reply = lambda m: InboundResult(
        replies=[OutboundText("Who should see your answers?", AUDIENCES)]
    )
    response = await slack.command("audience")
    shown = response.json()
    team_button = buttons(shown)[1]
    recorder.reply = lambda m: InboundResult(replies=[OutboundText("From now on: your team.")])

    tap = block_actions_payload(
        {k: team_button[k] for k in ("action_id", "value", "text")} | {"type": "button"},
        message={"type": "message", "ts": "1.2", "text": shown["text"], "blocks": shown["blocks"]},
        container={
            "type": "message",
            "message_ts": "1.2",
            "channel_id": "C0GENERAL",
            "is_ephemeral": True,
        },
        response_url=fake_slack.response_url(),
    )
    await slack.interact(tap)

    assert recorder.messages[-1].choice == "audience:team"
    [replaced] = fake_slack.calls_to("response_url")
    assert replaced.params["replace_original"] is True
    assert "Team, named" in shown_text(replaced.params)
    assert buttons(replaced.params) == []


def home_for(view: HomeView):  # type: ignore[no-untyped-def]
    async def provider(team: str | None, user: str) -> HomeView:
        assert (team, user) == (TEAM, USER)
        return view

    return provider


ALEX_HOME = HomeView(
    name="Alex",
    next_prompt="Tuesday 3 December at 10:00 · Family hub",
    audience="audience:team",
    audience_options=AUDIENCES,
    recent=(
        RecentAnswer("Monday 2 December", "What surprised you?", "Dads came too.", "Team, named"),
    ),
)


async def test_opening_the_app_home_publishes_the_next_prompt_and_recent_answers(
    fake_slack: FakeSlack, recorder: RecordingHandler, make_slack: MakeSlack
) -> None:
    requests = await make_slack(home_provider=home_for(ALEX_HOME))
    event = {
        "type": "app_home_opened",
        "user": USER,
        "channel": "D0ALEX",
        "tab": "home",
        "event_ts": "1.1",
    }

    await requests.event(event)

    home = fake_slack.homes[USER]
    text = shown_text(home)
    assert "Next question: Tuesday 3 December at 10:00 · Family hub" in text
    assert "Dads came too." in text
    assert "visible to: Team, named" in text
    assert {b["text"]["text"] for b in buttons(home)} == {"Pause 1 week", "Pause 2 weeks"}
    [audience] = [b for b in home["blocks"] if b.get("block_id") == "home_audience"]
    assert audience["accessory"]["initial_option"]["value"] == "audience:team"
    assert recorder.messages == []


async def test_pausing_from_the_app_home_asks_the_core_to_pause_and_republishes(
    fake_slack: FakeSlack, recorder: RecordingHandler, make_slack: MakeSlack
) -> None:
    paused = HomeView(name="Alex", paused_until="Friday 13 December")
    requests = await make_slack(home_provider=home_for(paused))
    recorder.reply = lambda m: InboundResult(replies=[OutboundText("Paused until Friday.")])

    pause = next(b for b in buttons(home_view(ALEX_HOME)) if b["text"]["text"] == "Pause 1 week")
    await requests.interact(block_actions_payload(pause))

    [message] = recorder.messages
    assert decode(message.choice) == Pause("1 week")
    assert fake_slack.posted()[-1]["text"] == "Paused until Friday."
    assert "Paused until Friday 13 December" in shown_text(fake_slack.homes[USER])
    assert [b["text"]["text"] for b in buttons(fake_slack.homes[USER])] == ["Resume now"]


async def test_choosing_an_audience_in_the_app_home_sends_the_choice(
    fake_slack: FakeSlack, recorder: RecordingHandler, make_slack: MakeSlack
) -> None:
    requests = await make_slack(home_provider=home_for(ALEX_HOME))

    select = {
        "type": "static_select",
        "action_id": "carbot_home_audience",
        "selected_option": {
            "value": "audience:private",
            "text": {"type": "plain_text", "text": "Only me"},
        },
    }
    await requests.interact(block_actions_payload(select))

    assert recorder.messages[0].choice == "audience:private"
    assert USER in fake_slack.homes


async def test_someone_not_yet_linked_sees_how_to_join_in_the_app_home(
    fake_slack: FakeSlack, recorder: RecordingHandler, make_slack: MakeSlack
) -> None:
    requests = await make_slack(home_provider=home_for(HomeView(name=None)))

    await requests.event({"type": "app_home_opened", "user": USER, "tab": "home"})

    assert "link CODE" in shown_text(fake_slack.homes[USER])


async def test_a_slash_command_that_changed_something_shows_the_app_home_again(
    fake_slack: FakeSlack, recorder: RecordingHandler, make_slack: MakeSlack
) -> None:
    requests = await make_slack(home_provider=home_for(ALEX_HOME))
    recorder.reply = lambda m: InboundResult(
        replies=[OutboundText("Done.")], state_changed=m.command == "note"
    )

    await requests.command("status")
    assert USER not in fake_slack.homes  # nothing changed: the App Home is left as it was

    await requests.command("note The hub was full")  # whatever the command, the core decides
    assert "Next question" in shown_text(fake_slack.homes[USER])


async def test_a_change_made_in_the_dm_shows_in_the_app_home_too(
    fake_slack: FakeSlack, recorder: RecordingHandler, make_slack: MakeSlack
) -> None:
    requests = await make_slack(home_provider=home_for(ALEX_HOME))
    recorder.reply = lambda m: InboundResult(
        replies=[OutboundText("Done.")], state_changed=m.text == "pause 1 week"
    )

    await requests.event(dm_event("What a week"), event_id="Ev1")
    assert fake_slack.posted()[-1]["text"] == "Done."
    assert USER not in fake_slack.homes

    await requests.event(dm_event("pause 1 week"), event_id="Ev2")
    assert "Next question" in shown_text(fake_slack.homes[USER])
