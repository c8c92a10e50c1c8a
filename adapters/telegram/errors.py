"""Every ``telegram.error`` is turned into a :class:`DeliveryError` here, at the adapter's edge.

- 403 Forbidden (the person blocked the bot or deleted their account) and "chat not found" are
  permanent: sending again cannot help, and the core marks the identity unreachable.
- 429 reaching this far (the rate limiter already waited out its retries) is transient, with
  Telegram's ``retry_after``.
- A 5xx (Telegram answered that it failed) and a connection that could not be opened (nothing
  was sent) are retried a few times here with a short backoff, then reported as transient so
  the dispatcher tries again later.
- A timeout, or a connection that broke after the request went out, is reported at once for a
  send (``idempotent=False``): the message may have arrived, so only the dispatcher (which
  knows the delivery) decides whether to try again. Idempotent calls are retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from adapters.base import DeliveryError
from adapters.telegram.ratelimit import retry_after_seconds

log = logging.getLogger(__name__)

T = TypeVar("T")

_GONE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")


def as_delivery_error(exc: TelegramError) -> DeliveryError:
    """The channel-neutral error for one Telegram error."""
    message = f"Telegram: {exc.message}"
    if isinstance(exc, Forbidden):
        return DeliveryError(message, permanent=True)
    if isinstance(exc, RetryAfter):
        return DeliveryError(message, retry_after=retry_after_seconds(exc))
    if isinstance(exc, BadRequest | ChatMigrated):
        gone = isinstance(exc, ChatMigrated) or any(m in exc.message.lower() for m in _GONE)
        return DeliveryError(message, permanent=gone)
    if isinstance(exc, InvalidToken):
        # The bot's token is wrong: carbot's problem, not the person's; keep their identity.
        return DeliveryError("Telegram refused the bot token; check CARBOT_TELEGRAM_TOKEN")
    return DeliveryError(message)


def may_have_arrived(exc: NetworkError) -> bool:
    """Whether the request may have reached Telegram: the connection broke after it was opened
    (a 5xx is an answer, and a connection that was never made carried nothing)."""
    cause = exc.__cause__
    return isinstance(cause, httpx.HTTPError) and not isinstance(cause, httpx.ConnectError)


async def call_telegram(
    action: Callable[[], Awaitable[T]],
    *,
    retries: int = 2,
    backoff: float = 0.5,
    idempotent: bool = True,
) -> T:
    """Run one Bot API call; retry 5xx and connection errors (for a send that is not
    ``idempotent``, only those that cannot have delivered it); raise only
    :class:`DeliveryError`."""
    attempt = 0
    while True:
        try:
            return await action()
        except (TimedOut, BadRequest) as exc:  # both are NetworkError subclasses in PTB
            raise as_delivery_error(exc) from exc
        except NetworkError as exc:
            if attempt >= retries or (not idempotent and may_have_arrived(exc)):
                raise as_delivery_error(exc) from exc
            delay = backoff * 2**attempt
            attempt += 1
            log.info("Telegram call failed (%s); trying again in %.1f s", exc.message, delay)
            await asyncio.sleep(delay)
        except TelegramError as exc:
            raise as_delivery_error(exc) from exc
