"""carbot's HTTP server adapter for the SDK: the ``/teams/messages`` route on carbot's web app.

The SDK registers its messaging route here (instead of on a FastAPI app of its own that it
would serve with its own uvicorn); carbot's web app mounts :attr:`Gate.asgi` at ``/teams``.
In front of the SDK's handler, a request without a bearer token, or with one naming a signing
key the Bot Framework does not publish (:mod:`adapters.teams.keys`), is refused with 401 before
its body is read, and a body that is not a JSON object (or whose id or type is not text) gets 400;
everything else goes to the SDK,
which verifies the Bot Framework JWT (signature against the OpenID signing keys, issuer,
audience = the app id, expiry, the ``serviceurl`` claim against the activity's ``serviceUrl``)
and answers 401 for a token that fails any of these — before the activity reaches carbot.
Behind that check, :func:`readable_only` answers 400 for an activity the SDK's models cannot
read (a field of the wrong type), which the SDK would answer 500 and log with a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from microsoft_teams.api.activities import ActivityTypeAdapter
from microsoft_teams.api.models import InvokeResponse
from microsoft_teams.apps.events import ActivityEvent, CoreActivity
from microsoft_teams.apps.http.adapter import HttpMethod, HttpRequest, HttpRouteHandler
from pydantic import ValidationError
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


OnRequest = Callable[[ActivityEvent], Awaitable[InvokeResponse[Any]]]


def readable_only(on_request: OnRequest) -> OnRequest:
    """The SDK's activity callback (called once the token has verified), refusing with 400 an
    activity its models cannot read. The log line names no field's value: pydantic's error text
    quotes the values, which may be what the person wrote."""

    async def guarded(event: ActivityEvent) -> InvokeResponse[Any]:
        try:
            ActivityTypeAdapter.validate_python(
                event.body.model_dump(by_alias=True, exclude_none=True)
            )
        except ValidationError as exc:
            log.warning(
                "Refused a Teams activity the SDK cannot read: %s field(s) wrong (HTTP 400)",
                exc.error_count(),
                extra={"action": "teams.refused", "status": 400},
            )
            return InvokeResponse(status=400)
        return await on_request(event)

    return guarded


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
            try:  # as the SDK reads it first; its own failure here would be a 500
                CoreActivity.model_validate(body)
            except ValidationError:
                return _refuse(request.url.path, 400, "an activity whose id or type is not text")
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
