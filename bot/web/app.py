"""carbot's web app: web chat, review workspace, outbox, and the channels' webhook routes."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI

from adapters.base import Channel
from bot.services import Services


def create_app(services: Services, channels: Sequence[Channel] = ()) -> FastAPI:
    """The ASGI app for ``services``; each channel's webhook routes are mounted on it."""
    app = FastAPI(title="carbot", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    from bot.web.review import router as review_router

    app.include_router(review_router)
    from bot.web.outbox import router as outbox_router

    app.include_router(outbox_router)

    for channel in channels:
        for path, asgi in channel.mounts().items():
            app.mount(path, asgi)
    return app
