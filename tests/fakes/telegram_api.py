"""A fake Telegram Bot API on loopback, for tests and benchmarks.

Give its :attr:`FakeTelegramAPI.base_url` to python-telegram-bot as ``base_url``: the real PTB code
then talks HTTP to this server. It

- records every method call with its decoded parameters (:attr:`calls`) and keeps each chat as a
  person would see it (:meth:`chat`), edits included;
- serves queued updates through getUpdates (long polling, honouring ``offset`` as Telegram does)
  and can POST them to the webhook set with setWebhook (:meth:`push_webhook`);
- serves files for getFile and their download URL;
- answers with errors on demand (:meth:`fail`: 429 with ``retry_after``, 403, 5xx…);
- optionally enforces flood limits like Telegram (``per_second`` messages in any sliding window of
  one second overall, one message per ``per_chat_interval`` in a chat), answering 429 past them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.telegram_methods import (
    MESSAGE_METHODS,
    TOKEN,
    BotApiMethods,
    Call,
    ChatMessage,
    FakeFile,
    Fault,
    UpdateBuilders,
)

_STRING_FIELDS = frozenset(
    {"text", "url", "secret_token", "file_id", "callback_query_id", "caption", "parse_mode"}
)


class FakeTelegramAPI(BotApiMethods, UpdateBuilders):
    def __init__(
        self,
        *,
        token: str = TOKEN,
        bot_username: str = "carbot_test_bot",
        per_second: int | None = None,
        per_chat_interval: float | None = None,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.per_second = per_second
        self.per_chat_interval = per_chat_interval
        self.calls: list[Call] = []
        self.too_many_requests = 0  # 429s given for breaking the flood limits
        self.too_many_overall = 0  # of those, for more than per_second in a second
        self.too_many_in_chat = 0  # of those, for a chat's second message within the interval
        self.conflicts = 0  # 409s given to a second concurrent poller
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.commands: list[dict[str, str]] = []
        self.confirmed_offset = 0  # getUpdates offset: every update below it is acknowledged
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        self._new_update = asyncio.Event()
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._drops: dict[str, int] = {}
        self._files: dict[str, FakeFile] = {}
        self._chats: dict[int, dict[int, ChatMessage]] = defaultdict(dict)
        self._message_ids = itertools.count(1)
        self._sent_times: deque[float] = deque()
        self._chat_last: dict[int, float] = {}
        self._poll: tuple[web.Request, asyncio.Event] | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> FakeTelegramAPI:
        self._new_update = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_get("/_fake/stats", self._stats)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.1
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @contextmanager
    def in_thread(self) -> Iterator[FakeTelegramAPI]:
        """Run the fake on a loop of its own (for code that calls ``asyncio.run`` itself)."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.close())
            loop.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        ready.wait(10)
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)

    @staticmethod
    @contextmanager
    def in_subprocess(
        per_second: int | None = None, per_chat_interval: float | None = None
    ) -> Iterator[str]:
        """Run a fake in a process of its own (as a remote server would be); yields its base
        URL. Its counters are at ``<base>/_fake/stats`` (see :func:`fake_stats`)."""
        command = [sys.executable, "-m", "tests.fakes.telegram_api"]
        if per_second is not None:
            command += ["--per-second", str(per_second)]
        if per_chat_interval is not None:
            command += ["--per-chat-interval", str(per_chat_interval)]
        root = Path(__file__).resolve().parents[2]
        process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            port = int(process.stdout.readline())
            yield f"http://127.0.0.1:{port}/bot"
        finally:
            process.terminate()
            process.wait(10)

    def stats(self) -> dict[str, Any]:
        """The counters: 429s (overall and in a chat), messages delivered, chats that got
        more than one, and the wall-clock times of the first and last message delivered."""
        delivered = self.calls_to("sendMessage", ok=True)
        per_chat = Counter(str(call.params.get("chat_id")) for call in delivered)
        return {
            "too_many_requests": self.too_many_requests,
            "too_many_overall": self.too_many_overall,
            "too_many_in_chat": self.too_many_in_chat,
            "conflicts": self.conflicts,
            "delivered": len(delivered),
            "chats": len(per_chat),
            "duplicates": sum(n - 1 for n in per_chat.values()),
            "first_at": min((call.wall for call in delivered), default=None),
            "last_at": max((call.wall for call in delivered), default=None),
        }

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    # -- what tests look at -------------------------------------------------------------

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        return [
            c for c in self.calls if c.method == method and (ok is None or (c.status == 200) == ok)
        ]

    def chat(self, chat_id: int) -> list[ChatMessage]:
        """The bot's messages in a chat, oldest first, as they look now (after edits)."""
        return [m for m in self._chats[chat_id].values() if m.from_bot]

    def last_text(self, chat_id: int) -> str:
        messages = self.chat(chat_id)
        return messages[-1].text if messages else ""

    # -- what tests make happen ---------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id`` if given) with an error."""
        text = description or {
            403: "Forbidden: bot was blocked by the user",
            429: f"Too Many Requests: retry after {retry_after}",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }.get(status, "Error")
        for _ in range(times):
            self._faults[method].append(Fault(status, text, retry_after, chat_id))

    def stall(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` only after ``seconds`` (a timeout)."""
        for _ in range(times):
            self._faults[method].append(Fault(200, "", delay=seconds))

    def drop_after(self, method: str, *, times: int = 1) -> None:
        """Do the next ``times`` calls of ``method`` (the message is sent), then close the
        connection without answering."""
        self._drops[method] = self._drops.get(method, 0) + times

    def add_file(self, data: bytes, *, file_size: int | None = None, suffix: str = "bin") -> dict:
        """A file Telegram holds; returns the fields a message's photo/document/voice carries."""
        number = len(self._files) + 1
        item = FakeFile(
            file_id=f"file-{number}",
            file_unique_id=f"u{number}",
            data=data,
            file_size=len(data) if file_size is None else file_size,
            file_path=f"documents/file_{number}.{suffix}",
        )
        self._files[item.file_id] = item
        return {
            "file_id": item.file_id,
            "file_unique_id": item.file_unique_id,
            "file_size": item.file_size,
        }

    def add_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (an ``update_id`` is given if it has none)."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        for kind in ("message", "callback_query"):
            if kind in update:
                self._remember_person_message(update[kind])
        self._updates.append(update)
        self._new_update.set()
        return update

    async def push_webhook(self, update: dict[str, Any], *, secret: str | None = None) -> int:
        """POST an update to the webhook as Telegram would; returns the HTTP status."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        headers = {}
        token = self.webhook_secret if secret is None else secret
        if token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self.webhook_url, json=update, headers=headers, allow_redirects=False
            ) as response,
        ):
            return response.status

    # -- the server ---------------------------------------------------------------------

    def _remember_person_message(self, body: dict[str, Any]) -> None:
        if "data" in body or "chat" not in body:
            return
        chat_id = body["chat"]["id"]
        self._chats[chat_id][body["message_id"]] = ChatMessage(
            body["message_id"], body.get("text", ""), from_bot=False
        )

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post() if request.can_read_body else {}
        params: dict[str, Any] = dict(request.query)
        for key, value in form.items():
            if key in _STRING_FIELDS or not isinstance(value, str):
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if request.match_info["token"] != self.token:
            return self._record(method, params, 401, self._error(401, "Unauthorized"))
        fault = self._take_fault(method, params)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
            fault = None
        if fault is not None:
            return self._record(
                method, params, fault.status, self._error(fault.status, fault.description, fault)
            )
        if method in MESSAGE_METHODS:
            limited = self._flood_check(params)
            if limited is not None:
                self.too_many_requests += 1
                return self._record(method, params, 429, limited)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._record(method, params, 404, self._error(404, "Not Found"))
        if method == "getUpdates":
            return await self._get_updates(request, params)
        answer = self._record(method, params, 200, self._ok(handler(params)))
        if self._drops.get(method):
            self._drops[method] -= 1
            assert request.transport is not None
            request.transport.abort()  # done, but the caller never hears so
            raise ConnectionResetError(f"{method} dropped after it was done")
        return answer

    def _record(self, method: str, params: dict[str, Any], status: int, response: web.Response):
        self.calls.append(Call(method, params, status, time.monotonic()))
        return response

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        for fault in list(queue):
            if fault.chat_id is None or str(fault.chat_id) == str(params.get("chat_id")):
                queue.remove(fault)
                return fault
        return None

    def _flood_check(self, params: dict[str, Any]) -> web.Response | None:
        now = time.monotonic()
        if self.per_second is not None:
            while self._sent_times and self._sent_times[0] <= now - 1.0:
                self._sent_times.popleft()
            if len(self._sent_times) >= self.per_second:
                wait = 1.0 - (now - self._sent_times[0])
                self.too_many_overall += 1
                return self._too_many(wait)
        chat = int(params.get("chat_id", 0))
        if self.per_chat_interval is not None and chat in self._chat_last:
            since = now - self._chat_last[chat]
            if since < self.per_chat_interval:
                self.too_many_in_chat += 1
                return self._too_many(self.per_chat_interval - since)
        self._sent_times.append(now)
        self._chat_last[chat] = now
        return None

    def _too_many(self, wait: float) -> web.Response:
        retry_after = max(1, int(wait + 0.999))
        fault = Fault(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        return self._error(429, fault.description, fault)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(status: int, description: str, fault: Fault | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if fault is not None and fault.retry_after is not None:
            body["parameters"] = {"retry_after": fault.retry_after}
        return web.json_response(body, status=status)

    async def _get_updates(self, request: web.Request, params: dict[str, Any]) -> web.Response:
        if self.webhook_url:
            description = "Conflict: can't use getUpdates method while webhook is active"
            return self._record("getUpdates", params, 409, self._error(409, description))
        # Like Telegram, a new getUpdates ends the one still waiting; that is a conflict only if
        # the client of the old one is still there (a worker that stopped has hung up).
        if self._poll is not None:
            old_request, old_end = self._poll
            old_end.set()
            if old_request.transport is not None and not old_request.transport.is_closing():
                self.conflicts += 1
        end = asyncio.Event()
        self._poll = (request, end)
        offset = int(params.get("offset") or 0)
        if offset:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        try:
            if not self._updates and timeout > 0:
                self._new_update.clear()
                waits = [asyncio.ensure_future(e.wait()) for e in (self._new_update, end)]
                await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for waiting in waits:
                    waiting.cancel()
        finally:
            if self._poll is not None and self._poll[1] is end:
                self._poll = None
        if end.is_set():
            description = "Conflict: terminated by other getUpdates request"
            return self._record("getUpdates", params, 409, self._error(409, description))
        return self._record("getUpdates", params, 200, self._ok(list(self._updates[:100])))

    async def _download(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        self.calls.append(Call("download", {"file_path": path}, 200, time.monotonic()))
        for item in self._files.values():
            if item.file_path == path and request.match_info["token"] == self.token:
                return web.Response(body=item.data)
        return web.Response(status=404)


async def fake_stats(base_url: str) -> dict[str, Any]:
    """The counters of a fake run with :meth:`FakeTelegramAPI.in_subprocess`."""
    stats_url = base_url.removesuffix("/bot") + "/_fake/stats"
    async with aiohttp.ClientSession() as session, session.get(stats_url) as response:
        return dict(await response.json())


def _serve(per_second: int | None, per_chat_interval: float | None) -> None:
    async def serve() -> None:
        fake = await FakeTelegramAPI(
            per_second=per_second, per_chat_interval=per_chat_interval
        ).start()
        print(fake.port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Serve a fake Telegram Bot API on loopback.")
    parser.add_argument("--per-second", type=int, default=None)
    parser.add_argument("--per-chat-interval", type=float, default=None)
    arguments = parser.parse_args()
    _serve(arguments.per_second, arguments.per_chat_interval)
