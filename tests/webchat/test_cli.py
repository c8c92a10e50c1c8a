"""``carbot people link-code``, ``carbot webchat link`` and ``carbot webchat revoke``."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from adapters.webchat import identity_key
from bot.cli import main
from bot.core.onboarding import hash_code
from bot.services import Services
from bot.settings import get_settings
from storage.models import ChannelIdentity, LinkCode, Person


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CARBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("CARBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CARBOT_SECRET_KEY", "cli-test-secret")
    monkeypatch.setenv("CARBOT_PUBLIC_URL", "https://carbot.example.org/")
    get_settings.cache_clear()
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0

    async def add_person() -> None:
        services = Services.from_settings(get_settings())
        async with services.sessions() as session, session.begin():
            session.add(Person(key="morag", study_code="P0001", name="Morag Campbell"))
        await services.close()

    asyncio.run(add_person())
    return tmp_path


def _rows(model: type) -> list:  # type: ignore[type-arg]
    async def read() -> list:  # type: ignore[type-arg]
        services = Services.from_settings(get_settings())
        async with services.sessions() as session:
            rows = list(await session.scalars(select(model)))
        await services.close()
        return rows

    return asyncio.run(read())


def test_webchat_link_prints_a_personal_link_and_a_new_one_replaces_the_old(
    cli_db: Path,
) -> None:
    first = CliRunner().invoke(main, ["webchat", "link", "morag"])
    second = CliRunner().invoke(main, ["webchat", "link", "morag"])

    assert first.exit_code == 0, first.output
    links = [r.output.strip() for r in (first, second)]
    assert all(re.fullmatch(r"https://carbot\.example\.org/chat/[\w-]{32}", u) for u in links)
    tokens = [u.rsplit("/", 1)[1] for u in links]
    identities = {i.external_id: i.status for i in _rows(ChannelIdentity)}
    assert identities == {identity_key(tokens[0]): "revoked", identity_key(tokens[1]): "active"}


def test_webchat_revoke_switches_the_link_off(cli_db: Path) -> None:
    CliRunner().invoke(main, ["webchat", "link", "morag"])

    result = CliRunner().invoke(main, ["webchat", "revoke", "morag"])

    assert result.exit_code == 0
    assert "Switched off 1 web chat link(s) for Morag Campbell." in result.output
    assert [i.status for i in _rows(ChannelIdentity)] == ["revoked"]


def test_link_code_prints_a_code_whose_hash_alone_is_stored(cli_db: Path) -> None:
    result = CliRunner().invoke(main, ["people", "link-code", "morag", "--channel", "telegram"])

    assert result.exit_code == 0, result.output
    code = re.search(r"Sign-up code for Morag Campbell: (\w+)", result.output)
    assert code is not None
    [stored] = _rows(LinkCode)
    assert stored.code_hash == hash_code(code.group(1))
    assert stored.channel == "telegram"


def test_an_unknown_person_key_is_a_clear_error(cli_db: Path) -> None:
    result = CliRunner().invoke(main, ["webchat", "link", "nobody"])

    assert result.exit_code != 0
    assert "No person with the key 'nobody'" in result.output
