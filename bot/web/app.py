"""carbot's web app: web chat, review workspace, outbox, and the channels' webhook routes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp

from adapters.base import Channel
from bot.channels import CHANNELS
from bot.review.codebook_import import MAX_CODEBOOK_BYTES
from bot.services import Services
from bot.web.headers import SecurityHeaders
from bot.web.limits import DEFAULT_LIMIT, BodySizeLimit

# The review route that takes a file (a codebook up to 5 MB); channels name their own.
CODEBOOK_UPLOAD = re.compile(r"^/review/codes/import$")
FORM_OVERHEAD = 64 * 1024  # room for a form's other fields and its multipart framing


def create_app(services: Services, channels: Sequence[Channel] = ()) -> FastAPI:
    """The ASGI app for ``services``; each channel's webhook routes are mounted on it.

    Every request body is limited before it is read (:mod:`bot.web.limits`): 1 MB, or the
    largest evidence file plus room for the form on the web chat's send route. Every response
    carries the security headers of :mod:`bot.web.headers`.
    """
    app = _App(title="carbot", docs_url=None, redoc_url=None, openapi_url=None)
    app.https = services.settings.public_url.lower().startswith("https://")
    app.state.services = services

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def home(request: Request) -> HTMLResponse:
        """A short front page: the review sign-in, and what web chat links are."""
        from bot.review.web import render

        return render(request, "home.html")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    from bot.web.review import router as review_router

    app.include_router(review_router)
    from bot.web.codebook import router as codebook_router

    app.include_router(codebook_router)
    from bot.web.overview import router as overview_router

    app.include_router(overview_router)
    from bot.web.reports import router as reports_router

    app.include_router(reports_router)
    from bot.web.outbox import router as outbox_router

    app.include_router(outbox_router)
    from bot.web.people import router as people_router

    app.include_router(people_router)

    for channel in channels:
        for path, asgi in channel.mounts().items():
            app.mount(path, asgi)
    limits = [limit for plugin in CHANNELS for limit in plugin.body_limits(services.settings)]
    app.add_middleware(
        BodySizeLimit,
        default=DEFAULT_LIMIT,
        limits=[*limits, (CODEBOOK_UPLOAD, MAX_CODEBOOK_BYTES + FORM_OVERHEAD)],
    )
    return app


class _App(FastAPI):
    """FastAPI with the security headers outside everything, even its last-resort 500 page."""

    https = False

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), https=self.https)
