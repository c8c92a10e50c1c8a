"""The security headers every response of the web app carries: pages, downloads, the outbox, the
web chat and the webhook routes alike.

A route that sends its own Content-Security-Policy keeps it (the review pages allow their own
scripts by nonce, the web chat its own files, evidence is sandboxed) and gets
``frame-ancestors 'none'`` added when it lacks one; any other response gets a strict default
that still lets a plain page show its inline styles and pictures. ``nosniff``, a same-origin
Referer and ``X-Frame-Options: DENY`` are added where a route did not choose stricter ones, and
``Strict-Transport-Security`` when the public URL is https.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HSTS = "max-age=31536000"


def with_frame_ancestors(policy: str) -> str:
    if "frame-ancestors" in policy:
        return policy
    return f"{policy.rstrip().rstrip(';')}; frame-ancestors 'none'"


class SecurityHeaders:
    """Pure ASGI middleware adding the headers to every ``http.response.start``."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                policy = headers.get("content-security-policy")
                headers["Content-Security-Policy"] = (
                    with_frame_ancestors(policy) if policy else DEFAULT_POLICY
                )
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if self.https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
