"""A fake Slack on loopback: the Web API, file downloads, response URLs and Socket Mode.

It records every call (method, parameters, token) so that tests assert on what was sent, and can
be told to answer the next calls to a method with an error (``user_not_found``…), with a
``429`` and a ``Retry-After`` header, or by doing the work and then dropping the connection
before answering (:meth:`FakeSlack.drop_after`). ``apps.connections.open`` hands out a
``ws://`` URL on the same server, whose websocket pushes envelopes to the client and records the
client's acks.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TEAM = "T0CARBOT"
BOT_USER = "UCARBOT"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    """Start with ``await FakeSlack().start()``; point ``AsyncWebClient(base_url=...)`` at
    :attr:`base_url`."""

    def __init__(self, team: str = TEAM) -> None:
        self.team = team
        self.calls: list[Call] = []
        self.users_by_email: dict[str, str] = {}
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.homes: dict[str, dict[str, Any]] = {}
        self.acks: dict[str, dict[str, Any]] = {}
        self.connected = asyncio.Event()
        self._scripted: dict[str, list[Scripted]] = {}
        self._drops: dict[str, int] = {}
        self._ts = itertools.count(1)
        self._ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ── lifecycle ─────────────────────────────────────────────────────────────────────────

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/files/{file_id}/{name}", self._file)
        app.router.add_post("/respond/{hook}", self._respond)
        app.router.add_get("/link/", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    # ── scripting ─────────────────────────────────────────────────────────────────────────

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with ``{"ok": false, "error": …}``."""
        for _ in range(times):
            self._scripted.setdefault(method, []).append(
                Scripted(200, {"ok": False, "error": error})
            )

    def rate_limit(self, method: str, retry_after: float = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with 429 and ``Retry-After``."""
        for _ in range(times):
            self._scripted.setdefault(method, []).append(
                Scripted(
                    429, {"ok": False, "error": "ratelimited"}, {"Retry-After": f"{retry_after:g}"}
                )
            )

    def drop_after(self, method: str, times: int = 1) -> None:
        """Do the next ``times`` calls to ``method`` (a message is posted), then close the
        connection without answering: the caller cannot tell whether Slack took the call."""
        self._drops[method] = self._drops.get(method, 0) + times

    def add_file(
        self,
        data: bytes,
        *,
        name: str = "photo.jpg",
        mimetype: str = "image/jpeg",
        size: int | None = None,
    ) -> dict[str, Any]:
        """A file to share in a message event; its ``url_private`` is served here."""
        file_id = f"F{len(self.files) + 1:05d}"
        info = {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "size": len(data) if size is None else size,
            "url_private": f"{self.url}/files/{file_id}/{name}",
            "url_private_download": f"{self.url}/files/{file_id}/{name}",
        }
        self.files[file_id] = (info, data)
        return dict(info)

    def response_url(self) -> str:
        return f"{self.url}/respond/{uuid.uuid4().hex}"

    # ── reading what happened ─────────────────────────────────────────────────────────────

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def posted(self) -> list[dict[str, Any]]:
        """The parameters of every chat.postMessage, in order."""
        return [call.params for call in self.calls_to("chat.postMessage")]

    # ── the Web API ───────────────────────────────────────────────────────────────────────

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        for key in ("blocks", "view"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth else params.get("token")
        self.calls.append(Call(method, params, token))
        queue = self._scripted.get(method)
        if queue:
            scripted = queue.pop(0)
            return web.json_response(
                scripted.body, status=scripted.status, headers=scripted.headers
            )
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        answer = handler(params)
        if self._drops.get(method):
            self._drops[method] -= 1
            assert request.transport is not None
            request.transport.abort()  # done, but the caller never hears so
            raise ConnectionResetError(f"{method} dropped after it was done")
        return web.json_response({"ok": True, **answer})

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://carbot-test.slack.com/",
            "team": "carbot test",
            "user": "carbot",
            "team_id": self.team,
            "user_id": BOT_USER,
            "bot_id": "BCARBOT",
        }

    def _m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"channel": {"id": "D" + str(params["users"]).lstrip("U")}}

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = f"{1700000000 + next(self._ts)}.000100"
        message = {"ts": ts, "text": params.get("text"), "blocks": params.get("blocks", [])}
        if params.get("metadata"):
            message["metadata"] = params["metadata"]
        self.messages[(params["channel"], ts)] = message
        return {"channel": params["channel"], "ts": ts, "message": message}

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": f"{1700000000 + next(self._ts)}.000200"}  # seen by one user only

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (params["channel"], params["ts"])
        self.messages[key] = {
            "ts": params["ts"],
            "text": params.get("text"),
            "blocks": params.get("blocks", []),
        }
        return {"channel": params["channel"], "ts": params["ts"]}

    def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first; the messages' metadata only with ``include_all_metadata``."""
        channel, latest = params["channel"], params.get("latest")
        if latest:
            found = self.messages.get((channel, latest))
            return {"messages": [found] if found else [], "has_more": False}
        shown = [
            message if _true(params.get("include_all_metadata")) else _without_metadata(message)
            for (where, _ts), message in reversed(self.messages.items())
            if where == channel
        ]
        limit = int(params.get("limit") or 100)
        return {"messages": shown[:limit], "has_more": len(shown) > limit}

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"view": {"id": f"V{next(self._ts):06d}", **params["view"]}}

    def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        self.homes[params["user_id"]] = params["view"]
        return {"view": {"id": f"V{next(self._ts):06d}"}}

    def _m_users_lookupByEmail(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users_by_email.get(str(params.get("email", "")).lower())
        if user is None:
            return {"ok": False, "error": "users_not_found"}
        return {"user": {"id": user, "team_id": self.team, "deleted": False}}

    def _m_files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info, _data = self.files[params["file"]]
        return {"file": info}

    def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self.port}/link/?ticket={uuid.uuid4().hex}"}

    async def _file(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        self.calls.append(
            Call(
                "files.download",
                {"file": request.match_info["file_id"]},
                auth.removeprefix("Bearer ") or None,
            )
        )
        if not auth.startswith("Bearer xoxb-"):
            return web.Response(status=403)
        _info, data = self.files[request.match_info["file_id"]]
        return web.Response(body=data, content_type="application/octet-stream")

    async def _respond(self, request: web.Request) -> web.Response:
        self.calls.append(Call("response_url", await request.json(), None))
        return web.Response(text="ok")

    # ── Socket Mode ───────────────────────────────────────────────────────────────────────

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(
            json.dumps(
                {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "ACARBOT"}}
            )
        )
        self.connected.set()
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            envelope_id = data.get("envelope_id")
            if envelope_id:
                self.acks[envelope_id] = data
                waiter = self._ack_waiters.get(envelope_id)
                if waiter is not None and not waiter.done():
                    waiter.set_result(data)
        return ws

    async def push(self, kind: str, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        """Send an envelope (``events_api``, ``interactive``, ``slash_commands``); its id."""
        await asyncio.wait_for(self.connected.wait(), 10)
        envelope_id = uuid.uuid4().hex
        self._ack_waiters[envelope_id] = asyncio.get_running_loop().create_future()
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        await self._sockets[-1].send_str(json.dumps(envelope))
        return envelope_id

    async def ack_for(self, envelope_id: str, within: float = 10) -> dict[str, Any]:
        """The client's ack of an envelope (waits for it)."""
        return await asyncio.wait_for(self._ack_waiters[envelope_id], within)


def _true(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _without_metadata(message: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if key != "metadata"}
