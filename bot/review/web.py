"""What every review page needs: rendering with a CSRF token, checking posted forms, and
finding the signed-in viewer (or sending the browser to the sign-in page)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.numbers import strict_id
from bot.core.texts import AUDIENCE_SHORT
from bot.review import auth
from bot.review.access import Viewer, viewer_for
from bot.services import Services

templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(default=True),
)
# Audiences in the words the chat's buttons use ("Team, no name"), not their stored values.
templates.filters["audience"] = lambda value: AUDIENCE_SHORT.get(value, value)


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def signer_of(request: Request) -> auth.Signer:
    signer = getattr(request.app.state, "review_signer", None)
    if signer is None:
        signer = auth.Signer(services_of(request).secret_key())
        request.app.state.review_signer = signer
    return signer


def render(
    request: Request, name: str, status: int = 200, viewer: Viewer | None = None, **context: Any
) -> HTMLResponse:
    browser_secret = request.cookies.get(auth.CSRF_COOKIE) or secrets.token_urlsafe(24)
    zone = ZoneInfo(viewer.timezone) if viewer else ZoneInfo("Europe/London")
    nonce = secrets.token_urlsafe(16)
    html = templates.get_template(name).render(
        request=request,
        viewer=viewer,
        nonce=nonce,
        csrf_token=signer_of(request).csrf_token(browser_secret),
        local=lambda moment: moment.astimezone(zone).strftime("%a %d %b %Y, %H:%M %Z"),
        link=lambda reflection: reflection_link(viewer, reflection),
        title=lambda reflection: reflection_title(viewer, reflection),
        evidence_link=lambda reflection, attachment, number: evidence_link(
            viewer, reflection, attachment, number
        ),
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=page_headers(nonce))
    if auth.CSRF_COOKIE not in request.cookies:
        response.set_cookie(
            auth.CSRF_COOKIE,
            browser_secret,
            httponly=True,
            samesite="strict",
            path="/review",
            secure=secure(request),
        )
    return response


def reflection_link(viewer: Viewer | None, reflection: Any) -> str:
    if viewer is not None and viewer.masks(reflection):
        return f"/review/anonymous/{viewer.handle(reflection.id)}"
    return f"/review/reflections/{reflection.id}"


def reflection_title(viewer: Viewer | None, reflection: Any) -> str:
    if viewer is not None and viewer.masks(reflection):
        return "An anonymous reflection"
    return f"Reflection {reflection.id}"


def evidence_link(viewer: Viewer | None, reflection: Any, attachment: Any, number: int) -> str:
    """An evidence file's address; for a masked reflection its place in the reflection, since
    evidence ids follow time too."""
    if viewer is not None and viewer.masks(reflection):
        return f"{reflection_link(viewer, reflection)}/evidence/{number}"
    return f"/review/evidence/{attachment.id}"


def page_headers(nonce: str) -> dict[str, str]:
    """Pages run only their own scripts, load only their own files, and are never framed."""
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; media-src 'self'; frame-ancestors 'none'; "
            "form-action 'self'; base-uri 'none'; object-src 'none'"
        ),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }


# Evidence is shown in the page only when it really is a picture or a sound; anything else is a
# download, and no evidence file may run scripts even when opened on its own.
EVIDENCE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
}


def shown_inline(kind: str, content_type: str) -> bool:
    if kind == "photo":
        return content_type.startswith("image/") and "svg" not in content_type
    return kind == "voice" and content_type.startswith("audio/")


def secure(request: Request) -> bool:
    return services_of(request).settings.public_url.startswith("https://")


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form, after checking its CSRF token (403 when it does not match)."""
    form = await request.form()
    # NUL characters mean nothing in a form, and PostgreSQL refuses them in text
    values = {
        key: value.replace("\x00", "") for key, value in form.items() if isinstance(value, str)
    }
    if not signer_of(request).csrf_ok(request.cookies.get(auth.CSRF_COOKIE), values.get("csrf")):
        raise HTTPException(403, "This form has expired. Go back, reload the page, and try again.")
    return values


async def checked_upload(request: Request, limit: int) -> tuple[dict[str, str], str, bytes]:
    """A posted form with one file (``file``), after the CSRF check: its text fields, the file's
    name and at most ``limit`` + 1 of its bytes (so a caller can tell it was too large)."""
    form = await request.form(max_files=1, max_fields=20)
    values = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    if not signer_of(request).csrf_ok(request.cookies.get(auth.CSRF_COOKIE), values.get("csrf")):
        raise HTTPException(403, "This form has expired. Go back, reload the page, and try again.")
    upload = form.get("file")
    if isinstance(upload, str) or upload is None:
        return values, "", b""
    return values, upload.filename or "", await upload.read(limit + 1)


async def current_viewer(request: Request, session: AsyncSession) -> Viewer:
    user = await auth.user_for_session(
        session,
        signer_of(request),
        request.cookies.get(auth.SESSION_COOKIE),
        services_of(request).clock.now(),
    )
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = "/review/sign-in?" + urlencode({"next": target})
        raise HTTPException(303, "Sign in first.", headers={"Location": location})
    services = services_of(request)
    return await viewer_for(
        session, user, services.settings.default_timezone, services.secret_key().encode()
    )


def id_in_path(name: str) -> Callable[[Request], int]:
    """A dependency reading the id ``{name}`` from the address strictly: plain ASCII digits
    within a database id's range, or the same "not found" page a missing row gets."""

    def read(request: Request) -> int:
        found = strict_id(request.path_params.get(name))
        if found is None:
            raise HTTPException(404, NOT_FOUND)
        return found

    return read


NOT_FOUND = "There is nothing here, or it is not yours to see."


def not_found(request: Request, viewer: Viewer) -> HTMLResponse:
    return render(request, "not_found.html", 404, viewer)


def redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def safe_next(value: str) -> str:
    return value if value.startswith("/review") and not value.startswith("//") else "/review/"


def evidence_path(data_dir: Path, relative: str) -> Path | None:
    """The stored file, if it exists and lies inside the data directory."""
    root = data_dir.resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


class ReviewRoute(APIRoute):
    """Routes whose refusals are pages: a redirect to sign in, or a short HTML explanation."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as refusal:
                if refusal.status_code == 303 and refusal.headers:
                    return RedirectResponse(refusal.headers["Location"], status_code=303)
                return render(
                    request, "error.html", refusal.status_code, message=str(refusal.detail)
                )

        return handle
