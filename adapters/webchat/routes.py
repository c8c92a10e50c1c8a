"""The web chat page and its endpoints, as one ASGI app mounted at ``/chat``.

- ``GET  /chat/<token>``          the page (404 for an unknown or revoked link)
- ``GET  /chat/<token>/history``  the page's messages as JSON (after a reconnect)
- ``GET  /chat/<token>/events``   server-sent events: prompts and notices as they are sent
- ``POST /chat/<token>/send``     a message, tap or file (multipart; needs the page's nonce)

The token in the URL is the credential; a POST must also carry the nonce of a page served for
that token (signed, valid for a day), so another site cannot post on the person's behalf.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from adapters.base import AttachmentKind, InboundAttachment, InboundMessage, InboundResult
from adapters.numbers import strict_id
from adapters.webchat.channel import NAME, Bubble, ChatHistory, WebChatChannel, identity_key

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
NONCE_MAX_AGE = 24 * 3600
FORM_OVERHEAD = 64 * 1024  # room for the form's other fields around an upload
_EVENT_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")

SECURITY_HEADERS = {
    # The token is in the URL: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _kind(content_type: str) -> AttachmentKind:
    if content_type.startswith("image/"):
        return "photo"
    if content_type.startswith("audio/"):
        return "voice"
    return "file"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=SECURITY_HEADERS)


def _not_found() -> HTMLResponse:
    page = _templates.get_template("not_found.html").render()
    return HTMLResponse(page, status_code=404, headers=SECURITY_HEADERS)


def result_json(result: InboundResult) -> dict[str, Any]:
    replies = [
        Bubble(id=f"r{uuid.uuid4().hex[:10]}", sender="bot", text=r.text, choices=r.choices)
        for r in result.replies
    ]
    answered = None
    if result.answered is not None:
        answered = {"delivery_id": result.answered.delivery_id, "label": result.answered.label}
    return {
        "duplicate": result.duplicate,
        "replies": [b.as_json() for b in replies],
        "answered": answered,
    }


def chat_app(channel: WebChatChannel) -> Starlette:
    """The ASGI app of ``channel``'s page and endpoints."""
    signer = URLSafeTimedSerializer(channel.secret_key, salt="carbot-webchat-nonce")

    async def _history(token: str) -> tuple[str, ChatHistory] | None:
        if not _TOKEN.match(token):
            return None
        key = identity_key(token)
        found = await channel.history(key)
        return (key, found) if found is not None else None

    async def page(request: Request) -> Response:
        token = request.path_params["token"]
        found = await _history(token)
        if found is None:
            return _not_found()
        key, history = found
        html = _templates.get_template("chat.html").render(
            name=history.name,
            bubbles=history.bubbles,
            base=f"{request.scope.get('root_path', '')}/{token}",
            static=f"{request.scope.get('root_path', '')}/static",
            nonce=signer.dumps(key),
            max_upload=channel.max_upload_bytes,
            answer_limit=channel.answer_limit,
        )
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    async def history_json(request: Request) -> Response:
        found = await _history(request.path_params["token"])
        if found is None:
            return _error(404, "This chat link is not valid.")
        return JSONResponse(
            {"bubbles": [b.as_json() for b in found[1].bubbles]}, headers=SECURITY_HEADERS
        )

    async def events(request: Request) -> Response:
        found = await _history(request.path_params["token"])
        if found is None:
            return _error(404, "This chat link is not valid.")
        key = found[0]
        queue = channel.subscribe(key)

        async def stream() -> AsyncIterator[str]:
            try:
                yield "retry: 3000\n\n"
                while True:
                    try:
                        item = await asyncio.wait_for(queue.get(), channel.heartbeat_seconds)
                    except TimeoutError:
                        if await request.is_disconnected():
                            return
                        yield ": still here\n\n"
                        continue
                    if item is None:
                        return
                    yield f"event: bubble\ndata: {json.dumps(item)}\n\n"
            finally:
                channel.unsubscribe(key, queue)

        headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def send(request: Request) -> Response:
        found = await _history(request.path_params["token"])
        if found is None:
            return _error(404, "This chat link is not valid.")
        key = found[0]
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            return _error(411, "Please send the message again.")
        if int(length) > channel.max_upload_bytes + FORM_OVERHEAD:
            return _too_large(channel.max_upload_bytes)
        try:
            # room for any text within the answer limit (4 bytes a character at most); longer
            # text is refused here, still saying the limit, rather than failing unexplained
            form = await request.form(
                max_files=1, max_fields=10, max_part_size=channel.answer_limit * 4 + 1024
            )
        except HTTPException as refused:
            if "maximum size" in str(refused.detail):
                return _too_long(channel.answer_limit)
            return _error(400, "Please reload the page and try again.")
        try:
            try:
                if signer.loads(str(form.get("nonce", "")), max_age=NONCE_MAX_AGE) != key:
                    raise BadSignature("nonce for another chat")
            except BadSignature:
                return _error(403, "This page has expired — please reload it.")
            event_id = str(form.get("event_id", ""))
            if not _EVENT_ID.match(event_id):
                return _error(400, "Please reload the page and try again.")
            attachments: tuple[InboundAttachment, ...] = ()
            upload = form.get("file")
            if isinstance(upload, UploadFile) and upload.filename:
                data = await upload.read(channel.max_upload_bytes + 1)
                if len(data) > channel.max_upload_bytes:
                    return _too_large(channel.max_upload_bytes)
                content_type = upload.content_type or "application/octet-stream"
                attachments = (
                    InboundAttachment(_kind(content_type), upload.filename, content_type, data),
                )
            delivery = str(form.get("delivery_id", "") or "")
            if delivery and strict_id(delivery) is None:
                return _error(400, "Please reload the page and try again.")
            message = InboundMessage(
                channel=NAME,
                event_id=f"{key[:16]}:{event_id}",
                external_id=key,
                received_at=datetime.now(UTC),
                text=str(form.get("text", "") or "") or None,  # the core enforces the limit
                choice=str(form.get("choice", "") or "") or None,
                delivery_id=strict_id(delivery),
                attachments=attachments,
            )
        finally:
            await form.close()
        if channel.handler is None:
            return _error(503, "carbot is starting up — please try again in a moment.")
        try:
            result = await channel.handler(message)
        except Exception as exc:
            # the kind of error only: a database error's text can quote what was sent
            log.error(
                "handling a web chat message failed: %s",
                type(exc).__name__,
                extra={"action": "webchat.failed"},
            )
            log.debug("why the web chat message failed", exc_info=True)
            return _error(500, "Sorry, that didn't work — nothing was saved. Please try again.")
        return JSONResponse(result_json(result), headers=SECURITY_HEADERS)

    return Starlette(
        routes=[
            Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
            Route("/{token}", page, methods=["GET"]),
            Route("/{token}/history", history_json, methods=["GET"]),
            Route("/{token}/events", events, methods=["GET"]),
            Route("/{token}/send", send, methods=["POST"]),
        ]
    )


def _too_long(limit: int) -> JSONResponse:
    log.info("refused a web chat message over the answer limit", extra={"action": "webchat.long"})
    return _error(
        413, f"That message is too long (the limit is {limit:,} characters). Nothing was saved."
    )


def _too_large(limit: int) -> JSONResponse:
    size = f"{limit / (1024 * 1024):.0f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    log.info("refused a web chat upload over %s", size, extra={"action": "webchat.too_large"})
    return _error(413, f"That file is too big (the limit is {size}). Nothing was saved.")
