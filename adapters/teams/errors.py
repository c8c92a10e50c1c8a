"""Every failed Bot Connector call becomes a :class:`DeliveryError` here, at the adapter's edge.

* 403 and 404 are permanent: the person removed the app, left the tenant, or the conversation is
  gone (``BotNotInConversationRoster``, ``ConversationNotFound``); sending again cannot help and
  the core marks the identity unreachable.
* 401 is carbot's problem (its token was refused), not the person's: transient; so are 400 and
  413 (a message over Teams' 40 KB), which fail the delivery after its attempts, not the person.
* 429 is waited out (``Retry-After``) and the same call made again; a 429 means nothing was
  sent. Microsoft asks for 412, 502 and 504 to be retried too; with other 5xx they are retried a
  few times here with a short backoff, then reported as transient.
* A timeout or a connection that broke after the request went out is reported at once for a
  send: the message may have arrived, and only the dispatcher decides whether to try again.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from adapters.base import DeliveryError
from adapters.teams.pacing import Pacer

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRIED = frozenset({412, 500, 502, 503, 504})
DEFAULT_RETRY_AFTER = 1.0
LONGEST_RETRY_AFTER = 60.0


def retry_after(response: httpx.Response) -> float:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date); 1 s when absent."""
    value = (response.headers.get("retry-after") or "").strip()
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            seconds = DEFAULT_RETRY_AFTER
    return min(max(seconds, 0.0), LONGEST_RETRY_AFTER)


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return f"HTTP {response.status_code} {code}" if code else f"HTTP {response.status_code}"


def as_delivery_error(exc: httpx.HTTPStatusError) -> DeliveryError:
    response = exc.response
    status = response.status_code
    message = f"Teams: {_reason(response)}"
    if status in (403, 404):
        return DeliveryError(message + " (the app was removed or the person left)", permanent=True)
    if status == 401:
        return DeliveryError(message + " (the Bot Connector refused carbot's token)")
    if status == 429:
        return DeliveryError(message, retry_after=retry_after(response))
    # 400 or 413 (over Teams' 40 KB): this message cannot go, but the person is still there.
    return DeliveryError(message)


async def call_teams(
    action: Callable[[], Awaitable[T]],
    pacer: Pacer,
    conversation: str,
    *,
    retries: int = 2,
    backoff: float = 0.5,
    max_429: int = 5,
) -> T:
    """Run one Bot Connector call in its paced turn; raise only :class:`DeliveryError`."""
    failures = 0
    limited = 0
    while True:
        try:
            async with pacer.turn(conversation):
                return await action()
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            if status == 429 and limited < max_429:
                limited += 1
                pause = retry_after(exc.response)
                pacer.pause(pause)
                log.warning(
                    "Teams asked to slow down; pausing sends for %.1f s",
                    pause,
                    extra={"action": "teams.retry_after", "retry_after": pause},
                )
                continue
            if status in RETRIED and failures < retries:
                delay = backoff * 2**failures
                failures += 1
                log.info("Teams answered HTTP %s; trying again in %.1f s", status, delay)
                await asyncio.sleep(delay)
                continue
            raise as_delivery_error(exc) from exc
        except httpx.ConnectError as exc:  # nothing was sent
            if failures >= retries:
                raise DeliveryError(f"Teams: could not connect ({exc!r})") from exc
            delay = backoff * 2**failures
            failures += 1
            await asyncio.sleep(delay)
        except httpx.HTTPError as exc:  # timed out or broke after sending: it may have arrived
            raise DeliveryError(f"Teams: no answer from the Bot Connector ({exc!r})") from exc
