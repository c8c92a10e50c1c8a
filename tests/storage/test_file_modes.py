"""Files carbot writes are readable only by its own user: 0600 files in 0700 folders."""

from __future__ import annotations

import multiprocessing
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from adapters.base import InboundAttachment
from bot.core.evidence import store_files
from bot.services import Services
from digests.mail import OutboxMailer
from storage.db import create_engine
from tests.conftest import make_settings

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _permissive_umask() -> Iterator[None]:
    """The usual 022 umask, so a test passes only because carbot sets the modes itself."""
    old = os.umask(0o022)
    yield
    os.umask(old)


async def test_the_sqlite_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    database = tmp_path / "var" / "carbot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (x TEXT)"))
        await connection.execute(text("INSERT INTO t VALUES ('private words')"))
        files = sorted(p.name for p in database.parent.iterdir())
        modes = {p.name: mode(p) for p in database.parent.iterdir()}
    await engine.dispose()

    assert files == ["carbot.db", "carbot.db-shm", "carbot.db-wal"]
    assert modes == {name: 0o600 for name in files}
    assert mode(database.parent) == 0o700


async def test_an_older_world_readable_database_is_made_private_on_open(tmp_path: Path) -> None:
    database = tmp_path / "carbot.db"
    database.touch(mode=0o644)
    database.chmod(0o644)

    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    await engine.dispose()

    assert mode(database) == 0o600


async def test_evidence_files_and_their_folders_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    [row] = await store_files(
        data_dir, (InboundAttachment("photo", "a.jpg", "image/jpeg", b"\xff\xd8 photo"),), NOW
    )

    path = data_dir / row.path
    assert mode(path) == 0o600
    for folder in (data_dir, data_dir / "evidence", data_dir / "evidence" / "2027", path.parent):
        assert mode(folder) == 0o700, folder


async def test_outbox_emails_are_private(tmp_path: Path) -> None:
    message = EmailMessage()
    message["To"] = "lead@example.org"
    message.set_content("What the team said this week")

    written = Path(await OutboxMailer(tmp_path / "outbox").send(message, "2027-W10_lead"))

    assert mode(written) == 0o600 and mode(tmp_path / "outbox") == 0o700
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == ["2027-W10_lead.eml"]


def test_the_secret_key_file_is_private(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, secret_key=None)
    services = Services.from_settings(settings)

    key = services.secret_key()

    path = Path(settings.data_dir) / "secret_key"
    assert path.read_text() == key and mode(path) == 0o600
    assert mode(Path(settings.data_dir)) == 0o700
    assert services.secret_key() == key


_start_together: Any = None


def _ready(barrier: Any) -> None:
    global _start_together
    _start_together = barrier


def _secret_key_of_a_new_worker(data_dir: str) -> str:
    settings = make_settings(Path(data_dir).parent, secret_key=None, data_dir=data_dir)
    services = Services.from_settings(settings)
    _start_together.wait(timeout=20)
    return services.secret_key()


def test_workers_starting_together_all_sign_with_the_one_key_the_first_made(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    context = multiprocessing.get_context("fork")
    workers = 6
    with context.Pool(workers, initializer=_ready, initargs=(context.Barrier(workers),)) as pool:
        keys = pool.map(_secret_key_of_a_new_worker, [data_dir] * workers)

    assert len(set(keys)) == 1
    assert (Path(data_dir) / "secret_key").read_text() == keys[0]
    assert sorted(p.name for p in Path(data_dir).iterdir()) == ["secret_key"]  # no partial file
