"""A fake Bot Connector service, Entra ID token endpoint and Bot Framework OpenID metadata, on
loopback, in one threaded HTTP server (the SDK reads the signing keys with a blocking call, so
the fake must not share the test's event loop).

It also mints the JWTs the "Bot Framework" would send carbot, signed with a local RSA key whose
public half it serves as the JWKS; :meth:`FakeConnector.token` can forge or expire one.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

APP_ID = "00000000-0000-4000-8000-00000000a99d"
APP_SECRET = "test-app-secret"
TENANT = "11111111-2222-4333-8444-555555555555"
ISSUER = "https://issuer.carbot.test"
KID = "carbot-test-key"

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Call:
    method: str
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class Scripted:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


class FakeConnector:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.activities: dict[str, dict[str, Any]] = {}  # activity id → its latest content
        self.members: dict[str, dict[str, Any]] = {}  # user id → member (email…)
        self.files: dict[str, bytes] = {}
        self.failures: dict[str, list[Scripted]] = {}  # conversation id → answers to give first
        self.times: list[float] = []  # when each activity was posted (monotonic)
        self.enforce: tuple[float, tuple[tuple[float, int], ...]] | None = None
        self.too_many = 0  # 429s answered because a limit was exceeded
        self._by_conversation: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._next = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def _send(
                self, status: int, body: Any = None, headers: dict[str, str] | None = None
            ) -> None:
                data = (
                    b""
                    if body is None
                    else (body if isinstance(body, bytes) else json.dumps(body).encode())
                )
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                if not isinstance(body, bytes):
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.headers.get("Content-Type", "").startswith("application/x-www-form"):
                    return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                return json.loads(raw) if raw else None

            def do_GET(self) -> None:
                status, body, headers = fake._get(self.path, dict(self.headers))
                self._send(status, body, headers)

            def do_POST(self) -> None:
                status, body, headers = fake._write(
                    "POST", self.path, self._body(), dict(self.headers)
                )
                self._send(status, body, headers)

            def do_PUT(self) -> None:
                status, body, headers = fake._write(
                    "PUT", self.path, self._body(), dict(self.headers)
                )
                self._send(status, body, headers)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ── running ────────────────────────────────────────────────────────────────────────────

    def start(self) -> FakeConnector:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def service_url(self) -> str:
        return self.url + "/connector/"

    @property
    def openid_url(self) -> str:
        return self.url + "/openid/v1/.well-known/openidconfiguration"

    @property
    def login_url(self) -> str:
        return self.url + "/login"

    # ── what the test scripts and reads ────────────────────────────────────────────────────

    def fail(
        self, conversation: str, status: int, *, times: int = 1, retry_after: str | None = None
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = {
            "error": {
                "code": {403: "BotNotInConversationRoster", 404: "ConversationNotFound"}.get(
                    status, "Throttled"
                )
            }
        }
        self.failures.setdefault(conversation, []).extend(
            Scripted(status, headers, body) for _ in range(times)
        )

    def enforce_limits(self, rate: float, per_conversation: tuple[tuple[float, int], ...]) -> None:
        """Answer 429 (Retry-After: 1) to a new activity past ``rate`` in any sliding second,
        or past any (window, count) of ``per_conversation``, as Teams does."""
        self.enforce = (rate, per_conversation)

    def _over_a_limit(self, conversation: str, now: float) -> bool:
        assert self.enforce is not None
        rate, windows = self.enforce
        if sum(1 for t in self.times[-int(rate) - 1 :] if now - t < 1.0) >= rate:
            return True
        mine = self._by_conversation.get(conversation, [])
        return any(sum(1 for t in mine if now - t < window) >= count for window, count in windows)

    def posted(self, conversation: str | None = None) -> list[dict[str, Any]]:
        return [
            call.body
            for call in self.calls
            if call.method == "POST"
            and "/activities" in call.path
            and (conversation is None or f"/conversations/{conversation}/" in call.path)
        ]

    def updates(self) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for call in self.calls:
            match = re.search(r"/activities/([^/]+)$", call.path)
            if call.method == "PUT" and match:
                found.append((match.group(1), call.body))
        return found

    def token(
        self,
        *,
        service_url: str | None = None,
        expires_in: int = 3600,
        audience: str = APP_ID,
        issuer: str = ISSUER,
        forged: bool = False,
        kid: str = KID,
    ) -> str:
        """A Bot Framework token for an inbound request (forged: signed with another key)."""
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "iat": now - 60 if expires_in > 0 else now + expires_in - 120,
            "nbf": now - 60 if expires_in > 0 else now + expires_in - 120,
            "exp": now + expires_in,
            "serviceurl": service_url or self.service_url,
        }
        key = _OTHER_KEY if forged else _KEY
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    # ── the service ────────────────────────────────────────────────────────────────────────

    def _get(self, path: str, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        self.calls.append(Call("GET", path, None, headers))
        if path == "/_fake/stats":
            return 200, {"too_many": self.too_many, "delivered": len(self.activities)}, {}
        if path.endswith("/openidconfiguration"):
            return 200, {"issuer": ISSUER, "jwks_uri": self.url + "/openid/v1/.well-known/keys"}, {}
        if path.endswith("/.well-known/keys"):
            public = _KEY.public_key().public_numbers()
            key = {
                "kty": "RSA",
                "use": "sig",
                "kid": KID,
                "alg": "RS256",
                "n": _b64(public.n),
                "e": _b64(public.e),
                "endorsements": ["msteams"],
            }
            return 200, {"keys": [key]}, {}
        if path.startswith("/files/"):
            name = path.removeprefix("/files/")
            return (
                (200, self.files[name], {"Content-Type": "application/octet-stream"})
                if name in self.files
                else (404, None, {})
            )
        if path.startswith("/connector/v3/attachments/"):
            if not headers.get("Authorization", "").startswith("Bearer "):
                return 401, None, {}
            name = path.rsplit("/", 3)[-3]
            return (
                (200, self.files[name], {"Content-Type": "image/png"})
                if name in self.files
                else (404, None, {})
            )
        match = re.match(r"/connector/v3/conversations/([^/]+)/members/([^/]+)$", path)
        if match and match.group(2) in self.members:
            return 200, self.members[match.group(2)], {}
        return 404, None, {}

    def _write(
        self, method: str, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.calls.append(Call(method, path, body, headers))
            if path.endswith("/oauth2/v2.0/token"):
                ok = (
                    body.get("client_id") == APP_ID
                    and body.get("client_secret") == APP_SECRET
                    and f"/login/{TENANT}/" in path
                )
                if not ok:
                    return 401, {"error": "invalid_client"}, {}
                token = jwt.encode(
                    {"aud": "https://api.botframework.com", "exp": int(time.time()) + 3600},
                    "k" * 32,
                    algorithm="HS256",
                )
                return 200, {"token_type": "Bearer", "expires_in": 3600, "access_token": token}, {}
            if not headers.get("Authorization", "").startswith("Bearer "):
                return 401, None, {}
            match = re.match(r"/connector/v3/conversations/([^/]+)/activities(?:/([^/]+))?$", path)
            if match is None:
                return 404, None, {}
            conversation, activity_id = match.groups()
            waiting = self.failures.get(conversation)
            if waiting:
                answer = waiting.pop(0)
                return answer.status, answer.body, answer.headers
            if method == "PUT" and activity_id:
                self.activities[activity_id] = body
                return 200, {"id": activity_id}, {}
            now = time.monotonic()
            if self.enforce is not None and self._over_a_limit(conversation, now):
                self.too_many += 1
                return 429, {"error": {"code": "Throttled"}}, {"Retry-After": "1"}
            self._next += 1
            new_id = f"1700000000{self._next:04d}"
            self.activities[new_id] = body
            self.times.append(now)
            self._by_conversation.setdefault(conversation, []).append(now)
            return 201, {"id": new_id}, {}


@contextmanager
def connector_in_subprocess(enforce: bool = True) -> Iterator[str]:
    """A fake in a process of its own (as the real service would be), enforcing Teams' limits;
    yields its base URL. Its counters are at ``<base>/_fake/stats``."""
    command = [sys.executable, "-m", "tests.fakes.teams_connector"]
    if enforce:
        command.append("--enforce")
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    from adapters.teams.pacing import CONVERSATION_LIMITS, GLOBAL_RATE

    fake = FakeConnector()
    if "--enforce" in sys.argv:
        fake.enforce_limits(GLOBAL_RATE, CONVERSATION_LIMITS)
    print(fake.url, flush=True)
    fake._server.serve_forever()
