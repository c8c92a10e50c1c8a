"""The webhook route: Telegram POSTs updates here when ``CARBOT_TELEGRAM_MODE=webhook``.

Telegram sends the secret given to setWebhook in ``X-Telegram-Bot-Api-Secret-Token``; it is
compared in constant time, and a request without it or with the wrong one gets 403 and is not
read further. The route answers 200 only after the core has handled (and stored) the update; on a
failure it answers 500 and Telegram sends the update again later (handled once, by ``update_id``).
A body that is not JSON, or JSON that is not an update carbot can read, gets 400 (Telegram does
not send it again). Each refusal or failure is one log line with the update id and the kind of
error, never the update's content.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.base import ASGIApp
from adapters.errors import UnreadableUpdate
from adapters.telegram.updates import update_id_of

log = logging.getLogger(__name__)

SECRET_HEADER = "x-telegram-bot-api-secret-token"

UpdateProcessor = Callable[[dict[str, Any]], Awaitable[None]]


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty expected secret matches nothing."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def webhook_app(secret: str, process: UpdateProcessor, path: str = "/webhook") -> ASGIApp:
    """An ASGI app, answering on ``path`` below its mount, that checks the secret and hands each
    update to ``process``."""

    async def respond(request: Request) -> Response:
        if not request.url.path.rstrip("/").endswith(path):
            return JSONResponse({"ok": False, "error": "not found"}, status_code=404)
        if request.method != "POST":
            return JSONResponse({"ok": False, "error": "POST updates here"}, status_code=405)
        if not secret_matches(request.headers.get(SECRET_HEADER), secret):
            log.warning(
                "Refused a Telegram webhook call with a missing or wrong secret token",
                extra={"action": "telegram.webhook.forbidden"},
            )
            return JSONResponse({"ok": False, "error": "forbidden"}, status_code=403)
        try:
            data = json.loads(await request.body())
        except ValueError:
            log.warning(
                "Refused a Telegram webhook call whose body is not JSON",
                extra={"action": "telegram.webhook.not_json"},
            )
            return JSONResponse({"ok": False, "error": "not JSON"}, status_code=400)
        update_id = update_id_of(data)
        try:
            await process(data)
        except UnreadableUpdate as unreadable:
            log.warning(
                "Refused Telegram update %s: it could not be read (%s)",
                unreadable.update_id,
                unreadable.error,
                extra={"action": "telegram.webhook.unreadable"},
            )
            return JSONResponse({"ok": False, "error": "not a Telegram update"}, status_code=400)
        except Exception as exc:
            log.error(
                "Handling Telegram update %s failed (%s); Telegram will send it again",
                update_id,
                type(exc).__name__,
                extra={"action": "telegram.webhook.failed"},
            )
            log.debug("Why Telegram update %s failed", update_id, exc_info=True)
            return JSONResponse({"ok": False, "error": "try again"}, status_code=500)
        return JSONResponse({"ok": True})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        response = await respond(Request(scope, receive))
        await response(scope, receive, send)

    return app
