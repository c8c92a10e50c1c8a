"""``/review/outbox``: the digests written as ``.eml`` files when no SMTP server is set (the demo).

The pages live inside the review workspace so that they share its sign-in and its session
cookie (scoped to ``/review``). Every lead's digest lands in one folder, so only admins may see
it; for anyone else the outbox does not exist (404), as with everything the review workspace
does not show. A message's HTML is shown in a sandboxed frame (no scripts, no same-origin
access) next to its plain-text part; the raw ``.eml`` can be downloaded.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from bot.review import audit
from bot.review.access import Viewer
from bot.review.web import ReviewRoute, current_viewer, not_found, render, services_of

log = logging.getLogger(__name__)

PREFIX = "/review/outbox"
router = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=ReviewRoute)


@dataclass(frozen=True)
class OutboxEntry:
    name: str
    to: str
    sender: str
    subject: str
    date: str
    written: str


async def _viewer(request: Request) -> Viewer:
    """The signed-in viewer; a signed-out browser is sent to sign in first."""
    async with services_of(request).sessions() as session:
        return await current_viewer(request, session)


def _read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _entry(path: Path, message: EmailMessage) -> OutboxEntry:
    written = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return OutboxEntry(
        name=path.name,
        to=str(message["To"] or ""),
        sender=str(message["From"] or ""),
        subject=str(message["Subject"] or "(no subject)"),
        date=str(message["Date"] or ""),
        written=written,
    )


def _file(request: Request, name: str) -> Path | None:
    """The outbox file called ``name``; None for anything else (no paths, no other folders)."""
    folder = Path(services_of(request).settings.outbox_dir).resolve()
    path = (folder / name).resolve()
    if path.parent != folder or path.suffix != ".eml" or not path.is_file():
        return None
    return path


def _entries(folder: Path, limit: int = 500) -> list[OutboxEntry]:
    paths = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
    entries = []
    for path in paths[:limit]:
        try:
            entries.append(_entry(path, _read(path)))
        except (OSError, ValueError) as exc:
            log.warning("unreadable outbox file %s: %s", path.name, exc)
    return entries


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
async def listing(request: Request) -> HTMLResponse:
    viewer = await _viewer(request)
    if not viewer.is_admin:
        return not_found(request, viewer)
    folder = Path(services_of(request).settings.outbox_dir)
    entries = await asyncio.to_thread(_entries, folder)
    return render(
        request,
        "outbox.html",
        viewer=viewer,
        page_title="Outbox",
        prefix=PREFIX,
        listing=entries,
        folder=str(folder),
    )


@router.get("/{name}", response_class=HTMLResponse)
async def show(request: Request, name: str) -> HTMLResponse:
    viewer = await _viewer(request)
    path = _file(request, name) if viewer.is_admin else None
    if path is None:
        return not_found(request, viewer)
    message = _read(path)
    await audit.record(services_of(request).sessions, viewer, "read_digest", f"outbox:{name}")
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    page = render(
        request,
        "outbox.html",
        viewer=viewer,
        page_title=str(message["Subject"] or path.name),
        prefix=PREFIX,
        message=_entry(path, message),
        html=html_part.get_content() if html_part is not None else "",
        text=text_part.get_content() if text_part is not None else "",
    )
    # the digest's own HTML is inert in the sandboxed frame; no script runs on this page at all
    page.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'"
    )
    return page


@router.get("/{name}/raw")
async def raw(request: Request, name: str) -> Response:
    viewer = await _viewer(request)
    path = _file(request, name) if viewer.is_admin else None
    if path is None:
        return not_found(request, viewer)
    return FileResponse(
        path,
        media_type="message/rfc822",
        filename=name,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )
