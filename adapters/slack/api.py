"""The Slack Web API as carbot uses it: paced, rate-limit aware, errors wrapped at the edge.

Every call goes through :meth:`SlackApi.call`, which turns ``SlackApiError`` and network errors
into :class:`DeliveryError` (permanent for a user or conversation that is gone, transient
otherwise), waits out a ``429`` for as long as ``Retry-After`` says (within reason), and keeps
``chat.postMessage`` to at most one message per second in each conversation.

No call is repeated after it may have reached Slack. slack_sdk's default retry handler makes a
call again when the connection breaks — even after Slack took a ``chat.postMessage`` and before
it answered, which posts the message twice. :func:`web_client` keeps only the retry that cannot
do that: a connection that could not be opened at all (nothing was sent). A ``429`` is waited
out and made again here, because Slack refused it. Any other failure is raised, and carbot's
dispatcher, which owns retrying, decides (see ``SlackChannel.send_prompt``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import DeliveryError
from adapters.errors import FileTooLarge, SlackError

log = logging.getLogger(__name__)

PERMANENT_ERRORS = frozenset(
    {
        "user_not_found",
        "users_not_found",
        "account_inactive",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_disabled",
        "cannot_dm_bot",
    }
)
# Read methods take query parameters; everything else is posted as JSON.
_GET_METHODS = frozenset(
    {"auth.test", "users.lookupByEmail", "conversations.history", "files.info"}
)
FILE_HOSTS = frozenset({"files.slack.com"})

Sleep = Callable[[float], Awaitable[None]]


def web_client(token: str, base_url: str) -> AsyncWebClient:
    """An ``AsyncWebClient`` that retries a call only when it could not connect at all."""
    unsent = AsyncConnectionErrorRetryHandler(
        max_retry_count=1, error_types=[aiohttp.ClientConnectorError]
    )
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=[unsent])


class SlackApi:
    """One bot token's view of the Web API."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        post_interval: float = 1.0,
        max_retry_wait: float = 30.0,
        retries: int = 2,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.post_interval = post_interval
        self.max_retry_wait = max_retry_wait
        self.retries = retries
        self._sleep = sleep
        self._monotonic = monotonic
        self._post_locks: dict[str, asyncio.Lock] = {}
        self._next_post: dict[str, float] = {}
        self._dm_channels: dict[str, str] = {}
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Call ``method``; raises :class:`DeliveryError` for every failure."""
        attempt = 0
        while True:
            try:
                if method in _GET_METHODS:
                    response = await self.client.api_call(method, http_verb="GET", params=params)
                else:
                    response = await self.client.api_call(method, json=params)
                return dict(response.data) if isinstance(response.data, dict) else {}
            except SlackApiError as exc:
                wait = _retry_after(exc)
                if wait is None:
                    raise _wrap(method, exc) from exc
                if attempt >= self.retries or wait > self.max_retry_wait:
                    raise DeliveryError(
                        f"Slack rate-limited {method}; try again in {wait:g}s", retry_after=wait
                    ) from exc
                attempt += 1
                log.info("Slack rate-limited %s; waiting %.1fs as asked", method, wait)
                await self._sleep(wait)
            except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
                raise DeliveryError(f"Slack {method} failed: {type(exc).__name__}") from exc

    async def dm_channel(self, user: str) -> str:
        """The id of the direct-message conversation with ``user`` (opened once, then cached)."""
        channel = self._dm_channels.get(user)
        if channel is None:
            data = await self.call("conversations.open", users=user)
            channel = str(data["channel"]["id"])
            self._dm_channels[user] = channel
        return channel

    async def post(self, channel: str, **params: Any) -> str:
        """``chat.postMessage`` in ``channel``, at most one per ``post_interval`` there; the ts."""
        lock = self._post_locks.setdefault(channel, asyncio.Lock())
        async with lock:
            wait = self._next_post.get(channel, 0.0) - self._monotonic()
            if wait > 0:
                await self._sleep(wait)
            try:
                data = await self.call("chat.postMessage", channel=channel, **params)
            finally:
                self._next_post[channel] = self._monotonic() + self.post_interval
        return str(data["ts"])

    async def download(self, url: str, limit: int) -> bytes:
        """A file's bytes from its ``url_private``, fetched with the bot token."""
        host = urlsplit(url).hostname or ""
        api_host = urlsplit(self.client.base_url).hostname or ""
        if host not in FILE_HOSTS and host != api_host:
            raise DeliveryError(f"refusing to send the bot token to {host!r}", permanent=True)
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        headers = {"Authorization": f"Bearer {self.client.token}"}
        try:
            async with self._http.get(url, headers=headers) as response:
                if response.status != 200:
                    raise DeliveryError(
                        f"Slack file download answered {response.status}",
                        permanent=response.status in (403, 404),
                    )
                if (response.content_length or 0) > limit:
                    raise FileTooLarge(url)
                data = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data.extend(chunk)
                    if len(data) > limit:
                        raise FileTooLarge(url)
                return bytes(data)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"Slack file download failed: {type(exc).__name__}") from exc


def _retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asked us to wait, for a 429; None for any other error."""
    response = exc.response
    if getattr(response, "status_code", None) != 429:
        return None
    for key, value in (getattr(response, "headers", None) or {}).items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                break
    return 1.0


def _wrap(method: str, exc: SlackApiError) -> SlackError:
    error = ""
    try:
        error = str(exc.response.get("error") or "")
    except (AttributeError, TypeError):
        pass
    permanent = error in PERMANENT_ERRORS
    log.warning(
        "Slack %s failed: %s (%s)",
        method,
        error or "unknown error",
        "permanent" if permanent else "transient",
        extra={"action": "slack_error"},
    )
    return SlackError(
        f"Slack {method} failed: {error or 'unknown error'}", code=error, permanent=permanent
    )
