"""A limit on the size of every request body, enforced before the body is read.

:class:`BodySizeLimit` wraps the whole web app, so it covers the review forms, the web chat and
every channel's mounted webhook routes alike. A ``Content-Length`` over the limit is answered 413
at once, without reading a byte of the body; a body without one (chunked) is counted as it
streams through to the app, never buffered, and answered 413 as soon as the running total
passes the limit. Nothing the app was doing with the partial body is kept: its response is
replaced by the 413.

The connection is not closed at once: uvicorn discards the rest of the body without keeping it
(for its keep-alive timeout at most), so the client, which usually sends the whole body before
reading, gets the 413 instead of a reset connection.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.errors import BodyTooLarge

log = logging.getLogger(__name__)

# Forms, webhooks and Slack/Telegram events are far smaller than this.
DEFAULT_LIMIT = 1024 * 1024


def shown_size(limit: int) -> str:
    return f"{limit / (1024 * 1024):.0f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


class BodySizeLimit:
    """Pure ASGI middleware: ``limits`` are (path pattern, bytes) pairs, the first match wins;
    any other path gets ``default``."""

    def __init__(
        self,
        app: ASGIApp,
        default: int = DEFAULT_LIMIT,
        limits: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.default = default
        self.limits = tuple(limits)

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.limits:
            if pattern.match(path):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        lengths = [v for k, v in scope["headers"] if k == b"content-length"]
        if lengths:
            if len(lengths) > 1 or not lengths[0].isdigit():
                await _refuse(send, 400, "The request's Content-Length is not a number.")
                return
            if int(lengths[0]) > limit:
                _log_refusal(scope, limit)
                await _refuse(send, 413, _too_large(limit))
                return

        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge(f"request body over {limit} bytes")
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over:
                return  # whatever the app answers to a cut-off body, the answer is 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over:
            _log_refusal(scope, limit)
            if not started:
                await _refuse(send, 413, _too_large(limit))


def _too_large(limit: int) -> str:
    return f"That is too big to send (the limit is {shown_size(limit)}). Nothing was saved."


def _log_refusal(scope: Scope, limit: int) -> None:
    # not the path: a web chat path holds the person's link token
    log.info(
        "refused a %s request whose body is over %s bytes",
        scope.get("method", "?"),
        limit,
        extra={"action": "http.too_large", "limit": limit},
    )


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
