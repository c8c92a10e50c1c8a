"""The demo study served on loopback, as a person meets it: seeded answers, digests in the
outbox, a review account and web chat links. Used by the browser tests and `make screenshots`."""

from __future__ import annotations

import asyncio
import atexit
import copy
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.channels.webchat import webchat_channel
from bot.core import Conversation
from bot.demo.setup import DemoReady, prepare_demo
from bot.engine.digest_jobs import send_due_digests
from bot.services import Services
from bot.settings import Settings
from bot.web.app import create_app
from storage.files import FILE_MODE
from storage.models import Attachment, Coding, Person, Reflection
from tests.support.environment import without_carbot_environment

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "examples" / "wws-demo.yaml"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # a Friday
_prepared: tuple[Settings, DemoReady] | None = None  # this run's demo, made once, copied after


@dataclass
class DemoSite:
    base: str
    email: str
    password: str
    paths: dict[str, str]  # review pages by what they show
    chat: str  # one participant's web chat page


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def prepared_demo(settings: Settings) -> DemoReady:
    """``prepare_demo`` of the demo study at ``NOW`` in ``settings``' database and data folder,
    which must be fresh. On SQLite it runs once per test run and is copied after (the database
    file and the data folder): a copy is the very database and files ``prepare_demo`` made."""
    global _prepared
    target = _fresh_sqlite_file(settings)
    if target is None:
        return await _prepare_demo_in(settings)  # not a fresh SQLite database: prepare in place
    if _prepared is None:
        folder = Path(tempfile.mkdtemp(prefix="carbot-demo-"))
        atexit.register(shutil.rmtree, folder, True)
        from tests.conftest import make_settings

        with without_carbot_environment():
            made = make_settings(folder)
        _prepared = made, await _prepare_demo_in(made)
    made, ready = _prepared
    _copy_demo(made, settings, target)
    return copy.deepcopy(ready)


def _fresh_sqlite_file(settings: Settings) -> Path | None:
    database = make_url(settings.database_url).database
    if not settings.database_url.startswith("sqlite") or not database:
        return None
    target = Path(database)
    return None if target.exists() or Path(settings.data_dir).exists() else target


def _copy_demo(made: Settings, settings: Settings, target: Path) -> None:
    made_file = Path(str(make_url(made.database_url).database))
    assert not made_file.with_name(made_file.name + "-wal").exists(), "the copy must be one file"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(made_file, target)
    os.chmod(target, FILE_MODE)
    if Path(made.data_dir).exists():
        shutil.copytree(made.data_dir, settings.data_dir)


async def _prepare_demo_in(settings: Settings) -> DemoReady:
    services = Services.from_settings(settings)
    try:
        return await prepare_demo(services, study=STUDY, real_now=NOW)
    finally:
        await services.close()  # the last connection out folds SQLite's WAL back into the file


async def _prepare(settings: Settings) -> tuple[str, str, dict[str, str], str]:
    ready = await prepared_demo(settings)
    services = Services.from_settings(settings)
    try:
        await send_due_digests(services, NOW)
        async with services.sessions() as session:
            photo = await session.scalar(
                select(Reflection.id)
                .join(Attachment, Attachment.reflection_id == Reflection.id)
                .where(Attachment.kind == "photo", Reflection.audience != "private")
                .limit(1)
            )
            coded = await session.scalar(select(Coding.reflection_id).limit(1))
            person = await session.scalar(select(Person.key).order_by(Person.id).limit(1))
    finally:
        await services.close()
    eml = await asyncio.to_thread(lambda: sorted(Path(settings.outbox_dir).glob("*.eml")))
    lead = next(p for p in eml if "_lead_weekly_" in p.name)
    cross = next(p for p in eml if "_cross_partnership_" in p.name)
    assert ready.review_email and ready.review_password and photo and coded and ready.links
    assert ready.context_report and person
    event = parse_qs(urlsplit(ready.context_report).query)["event"][0]
    paths = {
        "home": "/",
        "reflections": "/review/reflections",
        "one reflection (coded)": f"/review/reflections/{coded}",
        "one reflection (photo)": f"/review/reflections/{photo}",
        "codebook": "/review/codes",
        "participation": "/review/dashboard",
        "export": "/review/export",
        "outbox": "/review/outbox",
        "a lead digest": f"/review/outbox/{lead.name}",
        "the cross-partnership digest": f"/review/outbox/{cross.name}",
        "context report": ready.context_report,
        "evaluation summary": "/review/reports/evaluation?" + urlencode({"event": event}),
        "audit log": "/review/audit",
        "people": "/review/people",
        "one person": f"/review/people/{quote(person)}",
    }
    chat = urlsplit(ready.links[0].url).path
    return ready.review_email, ready.review_password, paths, chat


@contextmanager
def demo_site(settings: Settings) -> Iterator[DemoSite]:
    """Prepare the demo in ``settings``' database and serve it until the block ends."""
    email, password, paths, chat = asyncio.run(_prepare(settings))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(None, host="127.0.0.1", port=port, log_level="warning"))

    async def serve() -> None:
        # the web chat channel lives on the server's own event loop, as in `carbot run`
        services = Services.from_settings(settings)
        channel = webchat_channel(services)
        await channel.start(Conversation(services).handle)
        server.config.app = create_app(services, [channel])
        try:
            await server.serve()
        finally:
            await channel.stop()
            await services.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web app did not start"
    try:
        yield DemoSite(f"http://127.0.0.1:{port}", email, password, paths, chat)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def signed_in(browser, site: DemoSite, width: int, height: int = 800):  # type: ignore[no-untyped-def]
    """A new page at ``width`` px, signed in to the review workspace."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{site.base}/review/sign-in")
    page.get_by_label("Email").fill(site.email)
    page.get_by_label("Password").fill(site.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/review/**")
    return page
