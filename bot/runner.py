"""The carbot process: the web app (uvicorn), the scheduler and every configured channel.

``run(settings, clock)`` starts, in order: the channels (each given the conversation core's
handler), the web app with their webhook routes mounted, then the scheduler. On SIGTERM or SIGINT
it stops in the reverse order of risk: the scheduler first (no new work; the send in flight
finishes; deliveries this worker still holds go back to ``planned`` at once), then the channels
(their in-flight sends finish), then the web server; and it exits 0.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import ctypes
import logging
import os
import secrets
import signal
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path

import uvicorn
from sqlalchemy import Connection, inspect, text

from adapters.base import Channel
from bot.channels import build_channels
from bot.clock import Clock
from bot.core.conversation import Conversation
from bot.engine.jobs import Jobs, tick_for_speed
from bot.services import Services
from bot.settings import Settings
from bot.web.app import create_app
from storage.db import MIGRATIONS

log = logging.getLogger(__name__)

GRACEFUL_SECONDS = 10  # open HTTP requests get this long to finish on shutdown
M_ARENA_MAX = -8  # glibc's mallopt() parameter
MALLOC_ARENAS = 2
VERSION_TABLE = "alembic_version"  # Alembic's default; storage/migrations keeps it


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the runner decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Let the C allocator keep ``arenas`` heaps instead of one per thread (glibc's
    ``M_ARENA_MAX``; its default is eight per core). The database driver's threads each filled
    an arena of their own with rows the event loop had long freed; with two, a worker carrying
    10,000 participants peaks about 10 MB lower at the same speed. Called before any thread
    starts; an admin's ``MALLOC_ARENA_MAX`` wins, and elsewhere than glibc nothing happens."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))


def worker_name() -> str:
    """A name for this process's leases, unique across hosts and restarts."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def listen(host: str, port: int) -> socket.socket:
    """The web app's listening socket, bound before anything else starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def migration_heads(folder: Path = MIGRATIONS / "versions") -> set[str]:
    """The newest migrations (those no other follows), read from the migration files as text —
    what Alembic's ``ScriptDirectory.get_heads()`` says, without importing Alembic and every
    migration into the worker, which would keep them (about 9 MB) for the rest of its life."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in folder.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if not isinstance(target, ast.Name):
                continue
            if target.id == "revision":
                revisions.add(ast.literal_eval(value))
            elif target.id == "down_revision":
                parent = ast.literal_eval(value)
                parents.update(
                    parent if isinstance(parent, tuple | list) else [parent] * bool(parent)
                )
    return revisions - parents


def _current_revisions(connection: Connection) -> set[str]:
    """The revisions the database is at (Alembic's version table); none before the first."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return set()
    return set(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


async def schema_problem(services: Services) -> str | None:
    """None when the database is at the newest migration; else what to do about it."""
    heads = migration_heads()
    try:
        async with services.engine.connect() as connection:
            current = await connection.run_sync(_current_revisions)
    except Exception as exc:
        return f"cannot open the database ({exc.__class__.__name__}: {exc})"
    if current != heads:
        return "the database schema is not the newest: run `carbot db upgrade` first"
    return None


async def _start_channels(
    channels: Sequence[Channel], conversation: Conversation, started: list[Channel]
) -> None:
    """Start each channel, adding it to ``started`` (so a failure part-way stops the rest)."""
    for channel in channels:
        await channel.start(conversation.handle)
        started.append(channel)
        log.info("channel %s started", channel.name)


async def _stop_channels(channels: Sequence[Channel]) -> None:
    for channel in reversed(channels):
        try:
            await channel.stop()
        except Exception:
            log.exception("channel %s did not stop cleanly", channel.name)


async def run(
    settings: Settings,
    clock: Clock,
    *,
    speed: float = 1.0,
    channels: Sequence[Channel] | None = None,
) -> int:
    """Run carbot until SIGTERM/SIGINT; returns the exit status (0 after a clean stop)."""
    limit_malloc_arenas()
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per job run is noise
    try:
        sock = listen(settings.web_host, settings.web_port)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", settings.web_host, settings.web_port, exc)
        return 1
    services = Services.from_settings(settings, clock=clock)
    problem = await schema_problem(services)
    if problem is not None:
        log.error("%s", problem)
        sock.close()
        await services.close()
        return 1
    if channels is None:
        try:
            channels = build_channels(services)
        except ValueError as exc:  # a channel's settings do not fit together
            log.error("a channel is not fully configured: %s", exc)
            sock.close()
            await services.close()
            return 2
    channels = list(channels)
    conversation = Conversation(services)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    started: list[Channel] = []
    jobs: Jobs | None = None
    status = 0
    try:
        try:
            await _start_channels(channels, conversation, started)
        except Exception:
            log.exception("a channel could not start; stopping")
            return 1
        app = create_app(services, started)
        server = _Server(
            uvicorn.Config(
                app,
                log_level=settings.log_level.lower(),
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=GRACEFUL_SECONDS,
            )
        )
        serving = asyncio.create_task(server.serve(sockets=[sock]), name="web")
        while not server.started and not serving.done():
            await asyncio.wait({serving}, timeout=0.05)
        if serving.done():
            log.error("the web app could not start on %s:%s", settings.web_host, settings.web_port)
            return 1
        log.info("web app listening on http://%s:%s", settings.web_host, settings.web_port)
        if settings.scheduler_enabled:
            jobs = Jobs(
                services,
                {channel.name: channel for channel in started},
                worker=worker_name(),
                tick=tick_for_speed(speed),
            )
            jobs.start()
        stopper = asyncio.create_task(stop.wait(), name="stop")
        await asyncio.wait({serving, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if serving.done() and not stop.is_set():
            log.error("the web app stopped unexpectedly")
            status = 1
        stopper.cancel()
        log.info("stopping: finishing the sends in flight")
        if jobs is not None:
            await jobs.stop()
            jobs = None
        await _stop_channels(started)
        started = []
        server.should_exit = True
        with contextlib.suppress(BaseException):
            await serving
        log.info("stopped")
        return status
    finally:
        if jobs is not None:
            await jobs.stop()
        await _stop_channels(started)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await services.close()
        sock.close()
