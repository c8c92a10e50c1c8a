"""``/outbox``: the digests written as ``.eml`` files when no SMTP server is set (the demo).

Every lead's digest lands in one folder, so the pages are for admins only (signed in through the
review app). A message's HTML is shown in a sandboxed frame (no scripts, no same-origin access)
next to its plain-text part; the raw ``.eml`` can be downloaded.
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
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from bot.review import auth
from bot.services import Services
from digests.render import HTML

log = logging.getLogger(__name__)

router = APIRouter(prefix="/outbox", include_in_schema=False)
_PAGE = HTML.get_template("outbox.html")


@dataclass(frozen=True)
class OutboxEntry:
    name: str
    to: str
    sender: str
    subject: str
    date: str
    written: str


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def _require_admin(request: Request) -> None:
    signer = getattr(request.app.state, "review_signer", None)
    if signer is None:
        signer = auth.Signer(_services(request).secret_key())
        request.app.state.review_signer = signer
    async with _services(request).sessions() as session:
        user = await auth.user_for_session(
            session, signer, request.cookies.get(auth.SESSION_COOKIE)
        )
    if user is None:
        location = "/review/sign-in?" + urlencode({"next": request.url.path})
        raise HTTPException(303, "Sign in first.", headers={"Location": location})
    if not user.is_admin:
        raise HTTPException(403, "The outbox holds every lead's digest: admins only.")


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


def _file(request: Request, name: str) -> Path:
    """The outbox file called ``name``; 404 for anything else (no paths, no other folders)."""
    folder = Path(_services(request).settings.outbox_dir).resolve()
    path = (folder / name).resolve()
    if path.parent != folder or path.suffix != ".eml" or not path.is_file():
        raise HTTPException(404, "No such message in the outbox.")
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
    await _require_admin(request)
    folder = Path(_services(request).settings.outbox_dir)
    entries = await asyncio.to_thread(_entries, folder)
    return HTMLResponse(_PAGE.render(title="Outbox", listing=entries, folder=str(folder)))


@router.get("/{name}", response_class=HTMLResponse)
async def show(request: Request, name: str) -> HTMLResponse:
    await _require_admin(request)
    path = _file(request, name)
    message = _read(path)
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    page = _PAGE.render(
        title=str(message["Subject"] or path.name),
        message=_entry(path, message),
        html=html_part.get_content() if html_part is not None else "",
        text=text_part.get_content() if text_part is not None else "",
    )
    # the digest's own HTML is inert in the sandboxed frame; no script runs on this page at all
    policy = "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
    return HTMLResponse(page, headers={"Content-Security-Policy": policy})


@router.get("/{name}/raw")
async def raw(request: Request, name: str) -> FileResponse:
    await _require_admin(request)
    return FileResponse(
        _file(request, name),
        media_type="message/rfc822",
        filename=name,
        headers={"X-Content-Type-Options": "nosniff"},
    )
