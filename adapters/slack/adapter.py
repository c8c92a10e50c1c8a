"""carbot's Slack channel: direct messages with Block Kit, an answer modal and an App Home.

Built on slack-bolt's :class:`AsyncApp`. In Socket Mode (the default) carbot dials out to Slack
and needs no inbound port; in HTTP mode :meth:`SlackChannel.mounts` gives the web app the
``/slack/events``, ``/slack/interactivity`` and ``/slack/commands`` routes, where Bolt verifies
each request's signature.

How Slack is acknowledged in time, and each event passed to the core once, is
:mod:`adapters.slack.acks`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.base import (
    Answered,
    ASGIApp,
    DeliveryError,
    InboundHandler,
    InboundResult,
    MessageRef,
    OutboundPrompt,
    OutboundText,
    Recipient,
)
from adapters.errors import SlackError
from adapters.slack import blocks as kit
from adapters.slack.acks import Acks
from adapters.slack.api import SlackApi, Sleep, web_client
from adapters.slack.gate import check_request, log_refusal
from adapters.slack.home import HomeProvider, home_view

log = logging.getLogger(__name__)

CHANNEL = "slack"
CONNECT_WAIT = 10.0  # seconds start() waits for the first Socket Mode connection
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive"})
SENT_MARK = "carbot_prompt"  # the metadata event type that names a prompt's delivery
HISTORY_LOOKBACK = 100  # messages of a DM searched for a post whose outcome was not known


def split_ref(ref: str) -> tuple[str, str]:
    """``"D123:1700000000.000100"`` → (conversation id, message ts)."""
    channel, _, ts = ref.partition(":")
    if not channel or not ts:
        raise ValueError(f"not a Slack message reference: {ref!r}")
    return channel, ts


def _split_or_none(ref: str | None) -> tuple[str, str] | None:
    try:
        return split_ref(ref) if ref else None
    except ValueError:
        return None


async def _at_start(api: SlackApi, method: str, refused: str) -> dict[str, Any] | None:
    """Call ``method`` while starting: a refused token raises a permanent
    :class:`DeliveryError`; Slack being unreachable just now is logged (None) and left to
    the SDK's reconnecting."""
    try:
        return await api.call(method)
    except SlackError as exc:
        if exc.code in AUTH_ERRORS:
            raise DeliveryError(f"{refused}: {exc.code}", permanent=True) from exc
        failure: DeliveryError = exc
    except DeliveryError as exc:
        failure = exc
    log.warning("Slack did not answer %s yet (carrying on): %s", method, failure)
    return None


def configuration_problems(
    mode: str, app_token: str | None, signing_secret: str | None
) -> list[str]:
    """What a Slack channel in ``mode`` lacks, one sentence each (empty: all is well)."""
    if mode not in ("socket", "http"):
        return [f"unknown Slack mode {mode!r}; expected socket or http (CARBOT_SLACK_MODE)"]
    if mode == "socket" and not (app_token or "").strip():
        return [
            "Slack in socket mode needs CARBOT_SLACK_APP_TOKEN (an app-level token, xapp-…) "
            "as well as CARBOT_SLACK_BOT_TOKEN; or set CARBOT_SLACK_MODE=http"
        ]
    if mode == "http" and not (signing_secret or "").strip():
        return [
            "Slack in http mode needs CARBOT_SLACK_SIGNING_SECRET as well as CARBOT_SLACK_BOT_TOKEN"
        ]
    return []


class SlackChannel:
    """The :class:`adapters.base.Channel` for Slack."""

    name = CHANNEL

    def __init__(
        self,
        *,
        bot_token: str,
        mode: str = "socket",
        app_token: str | None = None,
        signing_secret: str | None = None,
        api_base_url: str = "https://slack.com/api/",
        max_upload_bytes: int = 20 * 1024 * 1024,
        home_provider: HomeProvider | None = None,
        post_interval: float = 1.0,
        ack_budget: float = 2.0,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        problems = configuration_problems(mode, app_token, signing_secret)
        if problems:
            raise ValueError("; ".join(problems))
        self.mode = mode
        self.max_upload_bytes = max_upload_bytes
        self.home_provider = home_provider
        self.now = now
        self._app_token = app_token
        self._signing_secret = signing_secret or ""
        self._api_base_url = api_base_url
        self.client = web_client(bot_token, api_base_url)
        self.api = SlackApi(self.client, post_interval=post_interval, sleep=sleep)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing_secret or "",
            process_before_response=True,  # listeners bound their own time: within_budget
            request_verification_enabled=mode == "http",
        )
        self.acks = Acks(ack_budget, self._post_quietly)
        self._socket: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Future[Any] | None = None
        from adapters.slack.listeners import register

        register(self.app, self)

    # ── the Channel protocol ───────────────────────────────────────────────────────────────

    async def start(self, handler: InboundHandler) -> None:
        """Check the bot token, then (Socket Mode) connect. A rejected token or app token
        raises :class:`DeliveryError`; Slack being unreachable just now is logged and Bolt
        tries again."""
        self.acks.handler = handler
        me = await _at_start(self.api, "auth.test", "the Slack bot token was refused")
        if me is not None:
            log.info("Slack bot %s in workspace %s", me.get("user_id"), me.get("team_id"))
        if self.mode == "socket":
            await self._connect_socket()

    async def _connect_socket(self) -> None:
        """Open the Socket Mode connection: a refused app token raises at once; otherwise the
        SDK keeps (re)connecting in the background, as it does after any disconnect."""
        assert self._app_token is not None
        socket_client = web_client(self._app_token, self._api_base_url)
        self._socket = AsyncSocketModeHandler(self.app, self._app_token, web_client=socket_client)
        socket_api = SlackApi(socket_client, sleep=self.api._sleep)
        opened = await _at_start(
            socket_api, "apps.connections.open", "could not open a Socket Mode connection"
        )
        if opened is not None:
            self._socket.client.wss_uri = str(opened["url"])
        self._connecting = asyncio.ensure_future(self._socket.connect_async())
        done, _pending = await asyncio.wait({self._connecting}, timeout=CONNECT_WAIT)
        if done:
            log.info("connected to Slack in Socket Mode")
        else:
            log.warning("still connecting to Slack in Socket Mode; carrying on")

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
            self._connecting = None
        await self.acks.settle()
        await self.api.close()

    async def send_prompt(self, to: Recipient, prompt: OutboundPrompt) -> MessageRef:
        """Post ``prompt`` in the person's DM. A reminder goes in the original prompt's thread,
        also shown in the DM (``reply_broadcast``), so that it points at what it reminds of.

        Each post carries message metadata naming its delivery (and whether it is the
        reminder). When an earlier attempt may have reached Slack (``prompt.resend``: the
        connection broke before Slack answered, or a worker died mid-send), the DM's recent
        history is searched for that mark first, and a post found there is kept instead of
        posting again. A failed search raises, so nothing is posted blindly."""
        channel = await self.api.dm_channel(to.external_id)
        mark = {
            "event_type": SENT_MARK,
            "event_payload": {"delivery_id": prompt.delivery_id, "reminder": prompt.reminder},
        }
        if prompt.resend:
            ts = await self._find_posted(channel, mark)
            if ts is not None:
                log.info(
                    "delivery %s was already posted on Slack; kept that post",
                    prompt.delivery_id,
                    extra={"action": "slack.already_posted"},
                )
                return MessageRef(CHANNEL, f"{channel}:{ts}")
        params: dict[str, Any] = {}
        original = _split_or_none(prompt.reminds) if prompt.reminder else None
        if original is not None and original[0] == channel:
            params = {"thread_ts": original[1], "reply_broadcast": True}
        ts = await self.api.post(
            channel,
            text=prompt.text,
            blocks=kit.prompt_blocks(prompt),
            unfurl_links=False,
            metadata=mark,
            **params,
        )
        return MessageRef(CHANNEL, f"{channel}:{ts}")

    async def _find_posted(self, channel: str, mark: dict[str, Any]) -> str | None:
        """The ts of the recent message in ``channel`` carrying ``mark``, if there is one."""
        history = await self.api.call(
            "conversations.history",
            channel=channel,
            limit=HISTORY_LOOKBACK,
            include_all_metadata=True,
        )
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            if (
                metadata.get("event_type") == mark["event_type"]
                and metadata.get("event_payload") == mark["event_payload"]
            ):
                return str(message["ts"])
        return None

    async def send_text(self, to: Recipient, message: OutboundText) -> MessageRef:
        return await self._post_text(to.external_id, message)

    def mounts(self) -> Mapping[str, ASGIApp]:
        if self.mode != "http":
            return {}
        bolt = AsyncSlackRequestHandler(self.app)

        secret = self._signing_secret

        async def endpoint(request: Request) -> Response:
            refusal = check_request(request.headers, await request.body(), secret)
            if refusal is not None:
                log_refusal(request.url.path, refusal)
                return JSONResponse({"ok": False}, status_code=refusal.status)
            return await bolt.handle(request)  # reads the body Starlette has kept

        routes = [
            Route(f"/{path}", endpoint, methods=["POST"])
            for path in ("events", "interactivity", "commands")
        ]
        return {"/slack": Starlette(routes=routes)}

    async def lookup_email(self, email: str) -> tuple[str | None, str] | None:
        """(team id, user id) of the active Slack user with ``email``; None when there is none."""
        try:
            data = await self.api.call("users.lookupByEmail", email=email)
        except SlackError as exc:
            if exc.code in ("users_not_found", "user_not_found"):
                return None
            raise
        user = data.get("user") or {}
        if not user.get("id") or user.get("deleted") or user.get("is_bot"):
            return None
        return user.get("team_id"), str(user["id"])

    # ── used by the listeners ──────────────────────────────────────────────────────────────

    async def _post_text(
        self, user: str, message: OutboundText, thread_ts: str | None = None
    ) -> MessageRef:
        channel = await self.api.dm_channel(user)
        params: dict[str, Any] = {"text": message.text, "blocks": kit.text_blocks(message)}
        if thread_ts:
            params["thread_ts"] = thread_ts
        ts = await self.api.post(channel, unfurl_links=False, **params)
        return MessageRef(CHANNEL, f"{channel}:{ts}")

    async def _post_quietly(
        self, user: str, message: OutboundText, thread_ts: str | None = None
    ) -> None:
        """Post ``message``; a failure is logged (a reply is not worth a retry)."""
        try:
            await self._post_text(user, message, thread_ts)
        except DeliveryError as exc:
            log.warning("could not send a reply on Slack: %s", exc)

    async def whisper(self, user: str, text: str, conversation: str | None = None) -> None:
        """Tell ``user`` something only they see, in ``conversation`` (their DM if None); a
        failure is logged (it answers a tap that changed nothing)."""
        try:
            channel = conversation or await self.api.dm_channel(user)
            await self.api.call("chat.postEphemeral", channel=channel, user=user, text=text)
        except DeliveryError as exc:
            log.warning("could not answer a Slack button carbot cannot read: %s", exc)

    async def say(self, user: str, result: InboundResult, thread_ts: str | None = None) -> None:
        """Send the core's replies to ``user``'s DM (in ``thread_ts`` when they wrote there)."""
        if result.duplicate:
            return
        for reply in result.replies:
            await self._post_quietly(user, reply, thread_ts)

    async def clear_answered(
        self, answered: Answered, tapped: str | None = None, shown: list[kit.Block] | None = None
    ) -> None:
        """Every message of an answered prompt (the prompt and its reminder) loses its buttons
        and shows the answer; ``shown`` is the blocks of ``tapped``, the message tapped, if any."""
        refs = list(answered.message_refs)
        if tapped and tapped not in refs:
            refs.insert(0, tapped)
        for ref in refs:
            blocks = shown if ref == tapped else None
            await self.show_answered(ref, answered.label, blocks, answered.prompt_text)

    async def show_answered(
        self, ref: str, label: str, shown: list[kit.Block] | None, question: str = ""
    ) -> None:
        """Replace the buttons of the message ``ref`` with the answer ``label``."""
        try:
            channel, ts = split_ref(ref)
            if shown is None:
                history = await self.api.call(
                    "conversations.history", channel=channel, latest=ts, inclusive=True, limit=1
                )
                messages = [m for m in history.get("messages", []) if m.get("ts") == ts]
                if not messages:
                    return
                shown = list(messages[0].get("blocks") or [])
                text = str(messages[0].get("text") or question or label)
            else:
                text = label
            await self.api.call(
                "chat.update",
                channel=channel,
                ts=ts,
                text=text,
                blocks=kit.answered_blocks(shown, label),
            )
        except (DeliveryError, ValueError) as exc:
            log.warning("could not mark a Slack message answered: %s", exc)

    async def publish_home(self, team: str | None, user: str) -> None:
        if self.home_provider is None:
            return
        view = await self.home_provider(team, user)
        try:
            await self.api.call("views.publish", user_id=user, view=home_view(view))
        except DeliveryError as exc:
            log.warning("could not publish the App Home: %s", exc)
