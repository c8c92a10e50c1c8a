"""carbot's Teams channel: personal chat with the bot, on Microsoft's Teams SDK for Python.

Inbound activities are POSTed by the Bot Connector to ``/teams/messages`` on carbot's web app
(:mod:`adapters.teams.gate`); the SDK's ``App`` verifies each one's JWT and routes it here. A
message or a card tap becomes one :class:`InboundMessage`; the core commits it; only then does
the request get its 200 (a failure gets 500, and the Bot Connector may deliver it again). The
replies and the answered card's redraw go out after that, paced (:mod:`adapters.teams.pacing`).

Outbound, prompts are Adaptive Cards (:mod:`adapters.teams.cards`) sent proactively with the
stored conversation reference (the conversation id, at ``TeamsConfig.service_url``).
"""

from __future__ import annotations

import logging
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from microsoft_teams.api.activities.install_update.add import InstalledActivity
from microsoft_teams.api.activities.message.message import MessageActivity, MessageActivityInput
from microsoft_teams.api.activities.message.message_update import MessageUpdateActivity
from microsoft_teams.api.models import InvokeResponse

with warnings.catch_warnings():  # the SDK announces a preview feature carbot does not use
    warnings.simplefilter("ignore")
    from microsoft_teams.apps import ActivityContext, App
from microsoft_teams.cards import AdaptiveCard

import adapters.actions as actions
from adapters.background import Background
from adapters.base import (
    ASGIApp,
    DeliveryError,
    InboundHandler,
    InboundMessage,
    InboundResult,
    MessageRef,
    OutboundPrompt,
    OutboundText,
    Recipient,
)
from adapters.errors import CredentialError
from adapters.teams import cards, inbound
from adapters.teams.auth import BotTokens, refused
from adapters.teams.config import CHANNEL, TeamsConfig
from adapters.teams.errors import call_teams
from adapters.teams.gate import Gate, readable_only
from adapters.teams.keys import SigningKeys
from adapters.teams.pacing import Pacer

log = logging.getLogger(__name__)

MOUNT = "/teams"
MESSAGES_PATH = "/messages"
SHOWN = 5000  # sent cards whose question (or reply text) is kept for redrawing them
GROUP_CHAT = "I only work in a personal chat: open carbot from the Apps bar and message me there."
UNSUPPORTED = "Sorry, I can't read that. Send text, a photo or a file."
EMPTY_ANSWER = "Type your answer in the box first, then press Send."
EDITED = (
    "I keep what you first sent, so editing a message here doesn't change it. "
    "To change your last answer, send edit followed by the new text."
)

Failed = InvokeResponse[None]  # what a handler returns to have the request answered 500

# What the app side may do when someone installs the app and email linking is on: link their
# conversation to the person with that email and return the greeting; None when nobody matched.
EmailLinker = Callable[[str, str, str], Awaitable[OutboundText | None]]


class TeamsChannel:
    """The :class:`adapters.base.Channel` for Microsoft Teams."""

    name = CHANNEL

    def __init__(
        self,
        config: TeamsConfig,
        *,
        pacer: Pacer | None = None,
        email_linker: EmailLinker | None = None,
    ) -> None:
        problems = config.problems()
        if problems:
            raise ValueError("; ".join(problems))
        self.config = config
        self.pacer = pacer or Pacer()
        self.email_linker = email_linker
        self._http = httpx.AsyncClient(timeout=config.request_timeout)
        self.tokens = BotTokens(config, self._http)
        self.gate = Gate(SigningKeys(config.openid_url, self._http))
        self.app = App(
            client_id=config.app_id,
            token=self.tokens,
            tenant_id=config.tenant_id,
            cloud=config.cloud(),
            service_url=config.service_url,
            http_server_adapter=self.gate,
            messaging_endpoint=MESSAGES_PATH,
            state=False,
            telemetry={"agent365": False},
            # Said outright: otherwise the SDK reads DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS
            # from the environment, and a stray variable would switch token checks off.
            dangerously_allow_unauthenticated_requests=False,
        )
        self.app.on_message(self._on_message)
        self.app.on_install_add(self._on_install)
        self.app.on_message_update(self._on_edit)
        self._handler: InboundHandler | None = None
        self._work = Background("sending a Teams reply failed")  # replies, by conversation
        self._shown: OrderedDict[str, tuple[str | None, str | None]] = OrderedDict()

    # ── the Channel protocol ───────────────────────────────────────────────────────────────

    async def start(self, handler: InboundHandler) -> None:
        """Get the bot's first token, then take activities. Credentials Entra ID refuses raise
        a permanent :class:`DeliveryError` (``carbot run`` stops and says so); Entra ID being
        unreachable just now is logged, and the token is asked for again at the first send."""
        self._handler = handler
        try:
            await self.tokens.get()
        except CredentialError as exc:
            raise DeliveryError(refused(exc), permanent=True) from exc
        except DeliveryError as exc:
            log.warning("Teams: no bot token yet (carrying on): %s", exc)
        await self.app.initialize()
        if self.app.server.on_request is not None:
            self.app.server.on_request = readable_only(self.app.server.on_request)
        log.info("Teams channel started (app %s)", self.config.app_id)

    async def stop(self) -> None:
        await self._work.settle()
        await self._http.aclose()

    def mounts(self) -> Mapping[str, ASGIApp]:
        return {MOUNT: self.gate.asgi}

    async def send_prompt(self, to: Recipient, prompt: OutboundPrompt) -> MessageRef:
        """Send ``prompt`` as a card; a reminder is posted as a reply to its prompt."""
        try:
            activity = MessageActivityInput().add_card(cards.prompt_card(prompt))
        except ValueError as exc:  # a button's value over the limit
            raise DeliveryError(f"Teams: {exc}") from exc
        if prompt.reminder and prompt.reminds:
            activity.reply_to_id = prompt.reminds
        sent = await self._post(self.config.service_url, to.external_id, activity)
        self._remember(sent, prompt.text, prompt.context)
        return MessageRef(CHANNEL, sent)

    async def send_text(self, to: Recipient, message: OutboundText) -> MessageRef:
        sent = await self._post(self.config.service_url, to.external_id, _text_activity(message))
        if message.choices:
            self._remember(sent, message.text, None)
        return MessageRef(CHANNEL, sent)

    async def idle(self) -> None:
        """Wait for the replies and card redraws still going out (tests, shutdown)."""
        await self._work.settle()

    # ── sending ────────────────────────────────────────────────────────────────────────────

    async def _post(
        self, service_url: str, conversation: str, activity: MessageActivityInput
    ) -> str:
        sent = await call_teams(
            lambda: self.app.send(conversation, activity, service_url=service_url),
            self.pacer,
            conversation,
        )
        return str(sent.id)

    async def _redraw(
        self, service_url: str, conversation: str, activity_id: str, card: AdaptiveCard
    ) -> None:
        """Replace the card ``activity_id`` (``updateActivity``); a failure is only logged."""
        activity = MessageActivityInput(id=activity_id).add_card(card)
        try:
            await call_teams(
                lambda: self.app.send(conversation, activity, service_url=service_url),
                self.pacer,
                conversation,
            )
        except DeliveryError as exc:
            log.warning("could not redraw an answered Teams card: %s", exc)

    async def _say(self, who: inbound.Sender, message: OutboundText) -> None:
        try:
            sent = await self._post(who.service_url, who.conversation, _text_activity(message))
        except DeliveryError as exc:
            log.warning("could not send a reply on Teams: %s", exc)
            return
        if message.choices:
            self._remember(sent, message.text, None)

    def _remember(self, activity_id: str, text: str | None, context: str | None) -> None:
        self._shown[activity_id] = (text, context)
        while len(self._shown) > SHOWN:
            self._shown.popitem(last=False)

    # ── receiving ──────────────────────────────────────────────────────────────────────────

    async def _on_install(self, ctx: ActivityContext[InstalledActivity]) -> Failed | None:
        activity = ctx.activity.model_dump(by_alias=True, exclude_none=True, mode="json")
        who = self._accepted(activity)
        if who is None:
            return None
        if self.config.link_by_email and self.email_linker is not None:
            greeting = await self._link_by_email(who)
            if greeting is not None:
                self._work.spawn(self._say(who, greeting))
                return None
        return await self._handle(who, inbound.installed(activity, who), None)

    async def _on_message(self, ctx: ActivityContext[MessageActivity]) -> Failed | None:
        activity = ctx.activity.model_dump(by_alias=True, exclude_none=True, mode="json")
        who = self._accepted(activity)
        if who is None:
            return None
        data = inbound.card_data(activity.get("value"))
        if data is not None:
            tap = inbound.card_tap(data)
            if tap is None:
                log.warning("ignored a Teams card button that carbot did not make")
                self._work.spawn(self._say(who, OutboundText(actions.UNREADABLE)))
                return None
            message = inbound.from_card(activity, who, tap, data)
            if message.text is None and message.choice is None:
                self._work.spawn(self._say(who, OutboundText(EMPTY_ANSWER)))
                return None
        else:
            files, too_large = await inbound.read_attachments(
                activity,
                self._http,
                limit=self.config.max_upload_bytes,
                bot_token=self.tokens.get,
                trusted_base=who.service_url,
            )
            message = inbound.from_message(activity, who, files, too_large)
            if message.text is None and not files and not too_large:
                self._work.spawn(self._say(who, OutboundText(UNSUPPORTED)))
                return None
        return await self._handle(who, message, data)

    async def _on_edit(self, ctx: ActivityContext[MessageUpdateActivity]) -> None:
        """An edited message changes nothing stored; the person is told how to change it."""
        activity = ctx.activity.model_dump(by_alias=True, exclude_none=True, mode="json")
        who = self._accepted(activity)
        if (
            who is not None
            and (activity.get("channelData") or {}).get("eventType") == "editMessage"
        ):
            self._work.in_turn(who.conversation, self._say(who, OutboundText(EDITED)))

    def _accepted(self, activity: dict[str, Any]) -> inbound.Sender | None:
        """The sender, when the activity is from a personal chat in carbot's tenant."""
        who = inbound.sender(activity)
        if who is None or not activity.get("id"):
            return None
        if who.tenant.lower() != self.config.tenant_id.lower():
            log.warning(
                "Ignored a Teams activity from another tenant", extra={"action": "teams.tenant"}
            )
            return None
        if not who.personal:
            log.info("Ignored a Teams message from a group chat", extra={"action": "teams.group"})
            self._work.spawn(self._say(who, OutboundText(GROUP_CHAT)))
            return None
        return who

    async def _handle(
        self, who: inbound.Sender, message: InboundMessage, data: dict[str, Any] | None
    ) -> Failed | None:
        """Hand ``message`` to the core and return once it is committed; reply afterwards.

        When the core fails, the request gets 500 (the Bot Connector may deliver the activity
        again) and one log line names the activity and the error's type, never the error's text:
        a database error quotes the statement's parameters, the person's words. (Raising instead
        would have the SDK log the error's text with its traceback.)"""
        if self._handler is None:
            raise RuntimeError("the Teams channel has not started")
        try:
            result = await self._handler(message)
        except Exception as exc:
            log.error(
                "Handling Teams activity %s failed: %s",
                message.event_id,
                type(exc).__name__,
                extra={"action": "teams.failed"},
            )
            log.debug("Teams activity %s failed", message.event_id, exc_info=True)
            return Failed(status=500)
        self._work.in_turn(who.conversation, self._render(who, message, result, data))
        return None

    async def _render(
        self,
        who: inbound.Sender,
        message: InboundMessage,
        result: InboundResult,
        data: dict[str, Any] | None,
    ) -> None:
        """The replies first, then the tapped card (and the answered prompt) redrawn."""
        if result.duplicate:
            return
        for reply in result.replies:
            await self._say(who, reply)
        tapped = message.reply_to if data is not None else None
        picked = isinstance(actions.decode(message.choice), actions.Pick)  # not a reply's action
        if result.answered is not None:
            refs = (*result.answered.message_refs, tapped)  # the prompt and its reminder
            asked = _str(result.answered.prompt_text)
            for ref in dict.fromkeys(r for r in refs if r):
                question, context = self._shown.get(ref, (None, None))
                if ref == tapped and data is not None:
                    question = question or _str(data.get("q"))
                    context = context or _str(data.get("ctx"))
                card = cards.answered_card(question or asked, context, result.answered.label)
                await self._redraw(who.service_url, who.conversation, ref, card)
        elif data is not None and message.delivery_id is None and tapped and not picked:
            text, _context = self._shown.get(tapped, (None, None))
            label = _str(data.get("label")) or message.choice or ""
            await self._redraw(
                who.service_url, who.conversation, tapped, cards.chosen_card(text, label)
            )

    async def _link_by_email(self, who: inbound.Sender) -> OutboundText | None:
        assert self.email_linker is not None
        try:
            member = await call_teams(
                lambda: self.app.api.conversations.get_member_by_id(who.conversation, who.user),
                self.pacer,
                who.conversation,
            )
        except DeliveryError as exc:
            log.warning("could not read a new Teams member's email: %s", exc)
            return None
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
        if not email:
            return None
        return await self.email_linker(str(email), who.conversation, who.tenant)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _text_activity(message: OutboundText) -> MessageActivityInput:
    if message.choices:
        return MessageActivityInput().add_card(cards.reply_card(message))
    return MessageActivityInput(text=cards.teams_text(message.text))
