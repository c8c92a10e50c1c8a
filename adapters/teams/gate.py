"""carbot's HTTP server adapter for the SDK: the ``/teams/messages`` route on carbot's web app.

The SDK registers its messaging route here (instead of on a FastAPI app of its own that it
would serve with its own uvicorn); carbot's web app mounts :attr:`Gate.asgi` at ``/teams``.
In front of the SDK's handler, a request without a bearer token, or with one naming a signing
key the Bot Framework does not publish (:mod:`adapters.teams.keys`), is refused with 401 before
its body is read, and a body that is not a JSON object gets 400; everything else goes to the SDK,
which verifies the Bot Framework JWT (signature against the OpenID signing keys, issuer,
audience = the app id, expiry, the ``serviceurl`` claim against the activity's ``serviceUrl``)
and answers 401 for a token that fails any of these — before the activity reaches carbot.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from microsoft_teams.apps.http.adapter import HttpMethod, HttpRequest, HttpRouteHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles

from adapters.teams.keys import SigningKeys

log = logging.getLogger(__name__)


def _refuse(path: str, status: int, reason: str) -> Response:
    log.warning(
        "Refused a request to %s: %s (HTTP %s)",
        path,
        reason,
        status,
        extra={"action": "teams.refused", "status": status},
    )
    return JSONResponse({"error": reason}, status_code=status)


class Gate:
    """An ``HttpServerAdapter`` whose routes are served by carbot's web app."""

    def __init__(self, keys: SigningKeys) -> None:
        self.asgi = Starlette()
        self._keys = keys

    def register_route(self, method: HttpMethod, path: str, handler: HttpRouteHandler) -> None:
        if method != "POST":
            raise ValueError(f"the Teams channel serves POST routes only, not {method}")

        async def endpoint(request: Request) -> Response:
            authorization = request.headers.get("authorization") or ""
            if not authorization.startswith("Bearer ") or len(authorization) <= len("Bearer "):
                return _refuse(request.url.path, 401, "no bearer token")
            if not await self._keys.publishes(authorization.removeprefix("Bearer ")):
                return _refuse(request.url.path, 401, "a token signed with an unknown key")
            try:
                body: Any = json.loads(await request.body())
            except (ValueError, UnicodeDecodeError):
                return _refuse(request.url.path, 400, "a body that is not JSON")
            if not isinstance(body, dict):
                return _refuse(request.url.path, 400, "a body that is not a JSON object")
            result = await handler(HttpRequest(body=body, headers=dict(request.headers)))
            status = result["status"]
            if status == 401:
                log.warning(
                    "Refused a Teams activity: its token did not verify (HTTP 401)",
                    extra={"action": "teams.refused", "status": 401},
                )
            content = result.get("body")
            if content is None:
                return Response(status_code=status)
            return JSONResponse(content, status_code=status)

        self.asgi.router.routes.append(Route(path, endpoint, methods=["POST"]))

    def serve_static(self, path: str, directory: str) -> None:
        self.asgi.mount(path, StaticFiles(directory=directory))

    async def start(self, port: int) -> None:
        raise RuntimeError("the Teams routes are served by carbot's web app, not on their own")

    async def stop(self) -> None:
        """Nothing to stop: carbot's web app owns the server."""
