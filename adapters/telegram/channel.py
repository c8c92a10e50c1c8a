"""The Telegram channel: python-telegram-bot's ``Application`` behind carbot's channel seam.

Inbound updates arrive by long polling (the default: no inbound port) or by webhook (a route on
carbot's web app, see :mod:`adapters.telegram.webhook`). Either way each update becomes one
:class:`InboundMessage` whose ``event_id`` is Telegram's ``update_id``, so a redelivered update is
handled once by the core; what the core answers is sent back, and a tapped prompt is edited to
show the choice.

Polling acknowledges an update (moves the getUpdates offset past it) only after the core has
handled it, so a crash loses nothing: PTB's own ``Updater`` confirms updates as soon as it has
queued them, which is why carbot runs its own loop (:mod:`adapters.telegram.polling`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, TelegramError

import adapters.actions as actions
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
from adapters.errors import DownloadFailed
from adapters.telegram import messages
from adapters.telegram.config import (
    ALLOWED_UPDATES,
    WEBHOOK_MOUNT,
    WEBHOOK_PATH,
    TelegramConfig,
    build_application,
)
from adapters.telegram.errors import call_telegram
from adapters.telegram.inbound import CHANNEL, message_ref, parse_ref, to_inbound
from adapters.telegram.polling import Poller, PollerLock
from adapters.telegram.updates import read_update
from adapters.telegram.webhook import webhook_app

log = logging.getLogger(__name__)


class TelegramChannel:
    """carbot's Telegram channel (see the module text)."""

    name = CHANNEL

    def __init__(self, config: TelegramConfig, *, poller_lock: PollerLock | None = None) -> None:
        problems = config.problems()
        if problems:
            raise ValueError("; ".join(problems))
        self.config = config
        self.application = build_application(config)
        self._handler: InboundHandler | None = None
        self._poller: Poller | None = None
        self._poller_lock = poller_lock
        self._started = False

    @property
    def bot_username(self) -> str | None:
        if self.config.bot_username:
            return self.config.bot_username.lstrip("@")
        try:
            return self.application.bot.username
        except RuntimeError:  # not initialised yet: getMe has not been called
            return None

    @property
    def polling(self) -> bool:
        """Whether this worker is the one polling Telegram right now."""
        return self._poller is not None and self._poller.leading

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, handler: InboundHandler) -> None:
        self._handler = handler
        await call_telegram(self.application.initialize, retries=self.config.send_retries)
        await self.application.start()
        self._started = True
        if self.config.mode == "webhook":
            await self._set_webhook()
            return
        self._poller = Poller(
            self.application.bot,
            self._handle_update,
            lock=self._poller_lock,
            timeout=self.config.poll_timeout,
            allowed_updates=ALLOWED_UPDATES,
            lock_retry_seconds=self.config.lock_retry_seconds,
            on_failure=self._tell_failed,
            backoff=self.config.retry_backoff,
            read_timeout=self.config.request_timeout,
        )
        self._poller.start()
        log.info("Telegram channel started (polling as @%s)", self.bot_username)

    async def stop(self) -> None:
        if self._poller is not None:
            await self._poller.stop()
            self._poller = None
        if self._started:
            self._started = False
            await self.application.stop()
            await self.application.shutdown()

    async def _set_webhook(self) -> None:
        bot = self.application.bot
        await call_telegram(
            lambda: bot.set_webhook(
                url=self.config.webhook_url or "",
                secret_token=self.config.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        )
        log.info("Telegram webhook set for @%s", self.bot_username)

    def mounts(self) -> Mapping[str, ASGIApp]:
        if self.config.mode != "webhook":
            return {}
        app = webhook_app(
            self.config.webhook_secret or "", self._handle_webhook_update, WEBHOOK_PATH
        )
        return {WEBHOOK_MOUNT: app}

    # -- sending -------------------------------------------------------------------------

    async def send_prompt(self, to: Recipient, prompt: OutboundPrompt) -> MessageRef:
        markup = None
        if prompt.kind in ("scale", "choice"):
            markup = self._keyboard(prompt.delivery_id, prompt)
        original = parse_ref(prompt.reminds) if prompt.reminder and prompt.reminds else None
        quoted = original[1] if original and original[0] == str(to.external_id) else None
        sent = await self._send(to.external_id, messages.prompt_text(prompt), markup, quoted)
        return MessageRef(CHANNEL, message_ref(sent.chat_id, sent.message_id))

    async def send_text(self, to: Recipient, message: OutboundText) -> MessageRef:
        sent = await self._send(to.external_id, message.text, self._keyboard(None, message))
        return MessageRef(CHANNEL, message_ref(sent.chat_id, sent.message_id))

    @staticmethod
    def _keyboard(
        delivery_id: int | None, message: OutboundPrompt | OutboundText
    ) -> InlineKeyboardMarkup | None:
        numbers = isinstance(message, OutboundPrompt) and message.kind == "scale"
        try:
            return messages.keyboard(delivery_id, message.choices, numbers=numbers)
        except ValueError as exc:
            raise DeliveryError(f"Telegram: {exc}") from exc

    async def _send(
        self,
        chat_id: int | str,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
    ) -> Message:
        """Send ``text`` (in several messages if it is over Telegram's length limit; the buttons
        go on the last, whose reference is the one kept). ``reply_to`` quotes an earlier message
        (a reminder quotes its prompt); if that message is gone, the text is sent anyway."""
        bot = self.application.bot
        pieces = messages.split_text(text)
        sent: Message | None = None
        quote = (
            ReplyParameters(reply_to, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        )
        for number, piece in enumerate(pieces, start=1):
            buttons = markup if number == len(pieces) else None
            sent = await call_telegram(
                lambda piece=piece, buttons=buttons: bot.send_message(  # type: ignore[misc]
                    chat_id=chat_id, text=piece, reply_markup=buttons, reply_parameters=quote
                ),
                retries=self.config.send_retries,
                backoff=self.config.retry_backoff,
                idempotent=False,
            )
        assert sent is not None
        return sent

    async def _say(self, chat_id: int | str, message: OutboundText) -> None:
        """A reply to something a person sent; a failure is logged, not raised."""
        try:
            await self._send(chat_id, message.text, self._keyboard(None, message))
        except DeliveryError as exc:
            log.warning("Could not send a reply on Telegram: %s", exc)

    # -- receiving -----------------------------------------------------------------------

    async def _handle_webhook_update(self, data: dict[str, object]) -> None:
        if not self._started:
            raise RuntimeError("the Telegram channel has not started")
        await self._handle_update(read_update(data, self.application.bot))

    async def _handle_update(self, update: Update) -> None:
        """Handle one update completely; raises when the core could not take it in."""
        if update.callback_query is not None:
            await self._on_tap(update.update_id, update.callback_query)
            return
        if update.edited_message is not None:
            if update.edited_message.chat.type == "private":
                await self._say(update.edited_message.chat.id, OutboundText(messages.EDITED))
            return
        message = update.message
        if message is None:
            return  # channel posts and the like: not asked for, nothing to do
        if message.chat.type != "private":
            log.info("Ignored a message from a group chat", extra={"action": "telegram.group"})
            text = messages.group_chat_text(self.bot_username)
            await self._say(message.chat.id, OutboundText(text))
            return
        if message.from_user is not None and message.from_user.is_bot:
            return
        inbound = await self._read(update.update_id, message)
        if inbound is None:
            await self._say(message.chat.id, OutboundText(messages.UNSUPPORTED_MESSAGE))
            return
        result = await self._core(inbound)
        original = message.reply_to_message.text if message.reply_to_message else None
        await self._render(message.chat.id, result, inbound.reply_to, original)

    async def _read(self, update_id: int, message: Message) -> InboundMessage | None:
        try:
            return await to_inbound(
                self.application.bot, update_id, message, self.config.max_upload_bytes
            )
        except TelegramError as exc:
            raise as_inbound_error(exc) from exc

    async def _on_tap(self, update_id: int, query: CallbackQuery) -> None:
        prompt = query.message  # an InaccessibleMessage (no text) when it is very old
        if prompt is None or prompt.chat.type != "private":
            await self._answer_tap(query, messages.GROUP_BUTTON)
            return
        shown = prompt.text if isinstance(prompt, Message) else None
        tap = actions.unpack(query.data)
        if tap is None:
            await self._answer_tap(query, messages.UNREADABLE_BUTTON)
            return
        delivery_id, value = tap.delivery_id, tap.value
        ref = message_ref(prompt.chat.id, prompt.message_id)
        inbound = InboundMessage(
            channel=CHANNEL,
            event_id=str(update_id),
            external_id=str(prompt.chat.id),
            received_at=datetime.now(UTC),
            choice=value,
            delivery_id=delivery_id,
            reply_to=ref,
        )
        result = await self._core(inbound)
        await self._answer_tap(query, None)
        await self._render(prompt.chat.id, result, ref, shown)
        reply_action = delivery_id is None and not isinstance(tap.action, actions.Pick)
        if reply_action and result.answered is None and not result.duplicate:
            # a button on a reply (consent, audience, which project): show what was tapped
            await self._show_choice(ref, _button_label(prompt, query.data) or value, shown)

    async def _core(self, inbound: InboundMessage) -> InboundResult:
        if self._handler is None:
            raise RuntimeError("the Telegram channel has not started")
        return await self._handler(inbound)

    async def _answer_tap(self, query: CallbackQuery, text: str | None) -> None:
        try:
            await query.answer(text)
        except TelegramError as exc:  # too old, or already answered: the tap itself was handled
            log.debug("Could not answer a button tap: %s", exc)

    async def _render(
        self, chat_id: int, result: InboundResult, ref: str | None, original: str | None
    ) -> None:
        """The replies first; then, as a courtesy, the answered prompt loses its buttons (an edit
        that fails or is slow never holds a reply back)."""
        if result.duplicate:
            return
        for reply in result.replies:
            await self._say(chat_id, reply)
        if result.answered is not None:  # the prompt and its reminder, whichever was tapped
            for answered_ref in result.answered.message_refs:
                await self._show_choice(
                    answered_ref, result.answered.label, original if answered_ref == ref else None
                )

    async def _show_choice(self, ref: str, label: str, original: str | None) -> None:
        """Take the buttons off an answered prompt, and show the answer under its text.

        Cosmetic: it gets ``request_timeout`` in all (a 429 on an edit is not waited out), and
        whatever goes wrong is logged by its kind and never raised.
        """
        parsed = parse_ref(ref)
        if parsed is None:
            return
        chat_id, message_id = parsed
        bot = self.application.bot

        async def edit() -> None:
            if original:
                text = messages.chosen_text(original, label)
                await bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, reply_markup=None
                )
            else:
                await bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message_id, reply_markup=None
                )

        try:
            await asyncio.wait_for(edit(), timeout=self.config.request_timeout)
        except BadRequest as exc:  # "message is not modified", too old to edit…
            log.debug("Did not edit an answered prompt: %s", exc)
        except Exception as exc:
            log.warning(
                "Could not edit an answered prompt (%s); its buttons stay",
                type(exc).__name__,
                extra={"action": "telegram.edit_failed"},
            )

    async def _tell_failed(self, update: Update) -> None:
        chat = update.effective_chat
        if chat is not None and chat.type == "private":
            await self._say(chat.id, OutboundText(messages.FAILED))


def _button_label(message: MaybeInaccessibleMessage, data: str | None) -> str | None:
    markup = message.reply_markup if isinstance(message, Message) else None
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def as_inbound_error(exc: TelegramError) -> DownloadFailed:
    """A failed download while reading an update: the update is tried again later."""
    return DownloadFailed(f"Telegram: could not fetch an attachment ({exc.message})")
