"""Bolt listeners: Slack events, button taps, modal submissions and ``/carbot`` → the core.

Each listener turns one Slack payload into one :class:`InboundMessage` (Slack's ``event_id``,
or the interaction's ``trigger_id`` or view id, as its event id), hands it to the channel, and
renders the result: replies in the DM (ephemeral for the slash command), the tapped or answered
prompt updated in place, and the App Home published again after a change from there.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp

import adapters.actions as actions
from adapters.base import (
    AttachmentKind,
    DeliveryError,
    InboundAttachment,
    InboundMessage,
    InboundResult,
    OutboundText,
)
from adapters.errors import FileTooLarge, NotCommittedYet
from adapters.slack import blocks as kit
from adapters.slack.home import AUDIENCE_ACTION, HOME_ACTIONS, PAUSE_ACTION, RESUME_ACTION

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackChannel

log = logging.getLogger(__name__)

MESSAGE_SUBTYPES = (None, "file_share", "thread_broadcast")
EDITED = (
    "I keep what you first sent, so editing a message here doesn't change it. To change your "
    "last answer, send 'edit' followed by the new text."
)
OLD_HOME_BUTTON = "That button no longer works; your Home tab is up to date again."
Payload = dict[str, Any]


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _team(body: Payload) -> str | None:
    team = body.get("team")
    if isinstance(team, dict):
        return team.get("id")
    return body.get("team_id") or (body.get("user") or {}).get("team_id")


def _inbound(
    channel: SlackChannel, event_id: str, user: str, workspace: str | None, **fields: Any
) -> InboundMessage:
    """The core's message for one Slack payload from ``user``."""
    return InboundMessage(
        channel="slack",
        event_id=event_id,
        external_id=user,
        workspace=workspace,
        received_at=channel.now(),
        **fields,
    )


def _kind(mimetype: str) -> AttachmentKind:
    if mimetype.startswith("image/"):
        return "photo"
    if mimetype.startswith("audio/"):
        return "voice"
    return "file"


async def _download(
    channel: SlackChannel, files: list[Payload]
) -> tuple[tuple[InboundAttachment, ...], bool]:
    """The files of a message, downloaded — or (), True when one is over the size limit."""
    limit = channel.max_upload_bytes
    if any(int(f.get("size") or 0) > limit for f in files):
        return (), True
    attachments: list[InboundAttachment] = []
    for shared in files:
        url = shared.get("url_private_download") or shared.get("url_private")
        if not url:
            shared = (await channel.api.call("files.info", file=shared["id"]))["file"]
            if int(shared.get("size") or 0) > limit:
                return (), True
            url = shared.get("url_private_download") or shared.get("url_private")
        try:
            data = await channel.api.download(str(url), limit)
        except FileTooLarge:
            return (), True
        mimetype = str(shared.get("mimetype") or "application/octet-stream")
        name = str(shared.get("name") or shared.get("title") or "file")
        attachments.append(InboundAttachment(_kind(mimetype), name, mimetype, data))
    return tuple(attachments), False


async def on_message(channel: SlackChannel, body: Payload, event: Payload) -> None:
    user, conversation = event["user"], event["channel"]
    event_id = body.get("event_id") or f"message:{conversation}:{event['ts']}"
    if channel.acks.seen(event_id):
        return
    attachments, too_large = await _download(channel, list(event.get("files") or []))
    thread_ts = event.get("thread_ts")
    in_thread = bool(thread_ts) and thread_ts != event.get("ts")
    message = _inbound(
        channel,
        event_id,
        user,
        _team(body) or event.get("team"),
        text=unescape(event.get("text") or "").strip() or None,
        reply_to=f"{conversation}:{thread_ts}" if in_thread else None,
        attachments=attachments,
        too_large=too_large,
    )
    result = await channel.acks.handle(message)
    if result is None:
        return

    async def reply() -> None:
        await channel.say(user, result, thread_ts if in_thread else None)
        if result.answered and not result.duplicate:
            await channel.clear_answered(result.answered)
        if result.state_changed:  # e.g. "pause 2 weeks" typed in the DM
            await channel.publish_home(_team(body) or event.get("team"), user)

    channel.acks.after_ack(user, reply)  # stored: Slack is acknowledged now, the replies follow


async def on_edited(channel: SlackChannel, event: Payload) -> None:
    """A person edited a DM they sent: nothing changes, and they are told how to edit an answer
    (Slack also reports unfurls and carbot's own updates as edits; those are let be)."""
    now, before = event.get("message") or {}, event.get("previous_message") or {}
    user = now.get("user")
    if not user or now.get("bot_id") or now.get("text") == before.get("text"):
        return
    await channel.say(user, InboundResult(replies=[OutboundText(EDITED)]))


async def on_choice(channel: SlackChannel, body: Payload, action: Payload, respond: Any) -> None:
    tap = actions.unpack(str(action.get("value") or ""))
    user = body["user"]["id"]
    container = body.get("container") or {}
    conversation, ts = container.get("channel_id"), container.get("message_ts")
    if tap is None:
        log.warning("ignored a Slack button that carbot did not make")
        await channel.whisper(user, actions.UNREADABLE, conversation)
        return
    value, delivery = tap.value, tap.delivery_id
    ref = f"{conversation}:{ts}" if conversation and ts else None
    message = _inbound(
        channel,
        f"action:{body.get('trigger_id') or action.get('action_ts')}",
        user,
        _team(body),
        choice=value,
        delivery_id=delivery,
        reply_to=ref if delivery is not None else None,
    )
    result = await channel.acks.handle(message)
    if result is None or result.duplicate:
        return
    label = None
    if result.answered is not None:
        label = result.answered.label
    elif delivery is None and not isinstance(tap.action, actions.Pick):  # a reply's action
        label = str((action.get("text") or {}).get("text") or value)
    shown = list((body.get("message") or {}).get("blocks") or [])
    if label and ref and container.get("is_ephemeral"):
        await respond(replace_original=True, text=label, blocks=kit.answered_blocks(shown, label))
    elif result.answered is not None:
        await channel.clear_answered(result.answered, ref, shown)
    elif label and ref:
        await channel.show_answered(ref, label, shown)
    await channel.say(user, result)
    if result.state_changed:  # e.g. an audience chosen with a button in the DM
        await channel.publish_home(_team(body), user)


async def on_answer_submitted(channel: SlackChannel, body: Payload, view: Payload) -> None:
    text = view["state"]["values"][kit.ANSWER_BLOCK][kit.ANSWER_INPUT].get("value") or ""
    delivery: int | None
    ref: str | None
    try:
        delivery, ref = kit.parse_modal_metadata(str(view.get("private_metadata") or ""))
    except ValueError:
        log.warning("an answer modal named no delivery carbot knows; matched it like a message")
        delivery, ref = None, None
    user = body["user"]["id"]
    message = _inbound(
        channel,
        f"view:{view['id']}",
        user,
        _team(body),
        text=text.strip(),
        delivery_id=delivery,
        reply_to=ref,
    )
    result = await channel.acks.handle(message)
    if result is None:
        return

    async def reply() -> None:
        await channel.say(user, result)
        if result.answered and not result.duplicate:
            await channel.clear_answered(result.answered, ref)

    channel.acks.after_ack(user, reply)  # stored: the modal closes now, the replies follow


async def on_person_command(
    channel: SlackChannel,
    body: Payload,
    event_id: str,
    command: str,
    args: str = "",
    choice: str | None = None,
) -> Any:
    """A command or choice from the slash command or the App Home; returns the core's result."""
    user = body["user_id"] if "user_id" in body else body["user"]["id"]
    message = _inbound(
        channel,
        event_id,
        user,
        _team(body),
        command=command or None,
        args=args,
        choice=choice,
    )
    return await channel.acks.handle(message)


def register(app: AsyncApp, channel: SlackChannel) -> None:
    """Attach carbot's listeners to ``app``."""

    @app.error
    async def failed(error: Exception) -> None:
        # Slack gets a failure (HTTP 500, no Socket Mode ack) either way, and tries again.
        if not isinstance(error, NotCommittedYet):
            # the kind of error only: a database error's text can quote what was sent
            log.error(
                "handling a Slack request failed: %s",
                type(error).__name__,
                extra={"action": "slack.failed"},
            )
            log.debug("why the Slack request failed", exc_info=error)

    @app.event("message")
    async def message_event(body: Payload, event: Payload) -> None:
        if event.get("channel_type") == "im" and event.get("subtype") == "message_changed":
            await channel.acks.within_budget(on_edited(channel, event))
            return
        if event.get("channel_type") != "im" or event.get("subtype") not in MESSAGE_SUBTYPES:
            return
        if event.get("bot_id") or not event.get("user"):
            return
        event_id = body.get("event_id") or f"message:{event['channel']}:{event['ts']}"
        await channel.acks.until_committed(event_id, lambda: on_message(channel, body, event))

    @app.event("app_home_opened")
    async def home_opened(body: Payload, event: Payload) -> None:
        if event.get("tab") == "home":
            await channel.acks.within_budget(channel.publish_home(_team(body), event["user"]))

    @app.action(re.compile(rf"^{kit.CHOICE_ACTION}_\d+$"))
    async def choice_tapped(ack: Any, body: Payload, action: Payload, respond: Any) -> None:
        await channel.acks.within_budget(
            on_choice(channel, body, action, respond), user=body["user"]["id"]
        )
        await ack()

    @app.action(kit.ANSWER_ACTION)
    async def answer_tapped(ack: Any, body: Payload, action: Payload) -> None:
        await ack()
        message = body.get("message") or {}
        container = body.get("container") or {}
        ref = f"{container.get('channel_id')}:{container.get('message_ts')}"
        tap = kit.read_answer_button(str(action.get("value") or ""))
        if tap is None or tap.delivery_id is None or not isinstance(tap.action, actions.Write):
            log.warning("ignored an Answer button that carbot did not make")
            await channel.whisper(
                body["user"]["id"], actions.UNREADABLE, container.get("channel_id")
            )
            return
        try:
            modal = kit.answer_modal(tap.delivery_id, str(message.get("text") or ""), ref)
            await channel.api.call("views.open", trigger_id=body["trigger_id"], view=modal)
        except (DeliveryError, ValueError) as exc:
            log.warning("could not open the answer modal: %s", exc)

    @app.view(kit.ANSWER_VIEW)
    async def answer_submitted(ack: Any, body: Payload, view: Payload) -> None:
        values = view["state"]["values"].get(kit.ANSWER_BLOCK, {}).get(kit.ANSWER_INPUT, {})
        if not str(values.get("value") or "").strip():
            await ack(
                response_action="errors",
                errors={kit.ANSWER_BLOCK: "Write a few words, or close this to answer later."},
            )
            return
        await channel.acks.until_committed(
            f"view:{view['id']}", lambda: on_answer_submitted(channel, body, view)
        )
        await ack()

    @app.command("/carbot")
    async def slash_command(ack: Any, body: Payload) -> None:
        words = str(body.get("text") or "").strip().split(maxsplit=1)
        command = words[0].lower() if words else "help"
        args = words[1] if len(words) > 1 else ""
        user = str(body["user_id"])
        box: dict[str, Any] = {"acked": False, "result": None}

        async def work() -> None:
            result = await on_person_command(
                channel, body, f"command:{body.get('trigger_id')}", command, args
            )
            if result is None:
                return
            if box["acked"]:
                await channel.say(user, result)  # too slow for the ephemeral answer
            else:
                box["result"] = result
            if result.state_changed:
                await channel.publish_home(_team(body), user)

        await channel.acks.within_budget(work(), user=user)
        box["acked"] = True
        result = box["result"]
        if result is None or result.duplicate or not result.replies:
            await ack()
            return
        shown = [block for reply in result.replies for block in kit.text_blocks(reply)]
        await ack(text="\n\n".join(r.text for r in result.replies), blocks=shown[:50])

    async def from_home(body: Payload, action: Payload, value: str) -> None:
        """An App Home control (pause, resume, the audience) → the core; the Home shown again."""
        user = body["user"]["id"]
        if isinstance(actions.decode(value), HOME_ACTIONS):
            event_id = f"action:{body.get('trigger_id') or action.get('action_ts')}"
            result = await on_person_command(channel, body, event_id, "", choice=value)
            if result is not None:
                await channel.say(user, result)
        else:
            log.warning("ignored an App Home control that carbot did not make")
            await channel.whisper(user, OLD_HOME_BUTTON)
        await channel.publish_home(_team(body), user)

    @app.action(re.compile(rf"^({PAUSE_ACTION}_\w+|{RESUME_ACTION})$"))
    async def home_button_tapped(ack: Any, body: Payload, action: Payload) -> None:
        value = str(action.get("value") or "")
        await channel.acks.within_budget(from_home(body, action, value), body["user"]["id"])
        await ack()

    @app.action(AUDIENCE_ACTION)
    async def audience_chosen(ack: Any, body: Payload, action: Payload) -> None:
        value = str((action.get("selected_option") or {}).get("value") or "")
        await channel.acks.within_budget(from_home(body, action, value), body["user"]["id"])
        await ack()
