"""Erasing one reflection on request, and `undo` taking the words out of outbox digest copies."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.privacy.outbox import cut_quotes
from bot.services import Services
from storage.models import AuditLog, Coding, Memo, Reflection
from tests.digests.helpers import WEEKLY_TIME
from tests.privacy.world import (
    AILSA_CAPTION,
    AILSA_WORDS,
    RUAIRIDH_WORDS,
    Privacy,
    build,
    build_with_accounts,
)
from tests.review.helpers import client, csrf, sign_in
from tests.support.world import built_for_the_cli


@pytest.fixture
async def privacy(services: Services) -> Privacy:
    return await build_with_accounts(services)


async def _reflection_id(services: Services, words: str) -> int:
    async with services.sessions() as session:
        found = await session.scalar(select(Reflection.id).where(Reflection.text == words))
    assert found is not None
    return found


def _outbox_text(privacy: Privacy) -> str:
    return "".join(p.read_text(errors="replace") for p in privacy.outbox_dir.glob("*.eml"))


async def test_an_admin_erases_one_reflection_and_its_quotes_in_the_outbox(
    privacy: Privacy,
) -> None:
    target = await _reflection_id(privacy.services, AILSA_WORDS)
    before = sorted(privacy.outbox_dir.glob("*.eml"))
    assert "kettle" in _outbox_text(privacy)  # the lead's digest quoted her
    async with client(privacy.services) as http:
        await sign_in(http, "admin@example.org")
        token = await csrf(http, f"/review/reflections/{target}")
        page = await http.post(
            f"/review/reflections/{target}/erase",
            data={"csrf": token, "reason": "asked by the participant on 3 March"},
        )
        assert page.status_code == 200
        assert f"Reflection {target} erased" in page.text
        assert "1 coding(s) and" in page.text and "1 memo(s)" in page.text
        gone = await http.get(f"/review/reflections/{target}")
        assert gone.status_code == 404
    async with privacy.services.sessions() as session:
        assert await session.get(Reflection, target) is None
        assert not list(await session.scalars(select(Coding).where(Coding.reflection_id == target)))
        assert not list(await session.scalars(select(Memo).where(Memo.reflection_id == target)))
        texts = set(await session.scalars(select(Reflection.text)))
        [line] = await session.scalars(
            select(AuditLog).where(AuditLog.action == "reflection.erase")
        )
    # her other answers and her colleague's stay
    assert {AILSA_CAPTION, RUAIRIDH_WORDS} <= texts and AILSA_WORDS not in texts
    assert line.target == privacy.ailsa_code
    assert line.details["reflection"] == target and "kettle" not in str(line.details)
    # the digest copy is kept (headers, the record that it went out) without the words
    assert sorted(privacy.outbox_dir.glob("*.eml")) == before
    assert "kettle" not in _outbox_text(privacy)
    assert "content removed" in _outbox_text(privacy)


async def test_only_an_admin_with_a_reason_can_erase_a_reflection(privacy: Privacy) -> None:
    target = await _reflection_id(privacy.services, AILSA_WORDS)
    async with client(privacy.services) as http:
        await sign_in(http, "admin@example.org")
        token = await csrf(http, f"/review/reflections/{target}")
        no_reason = await http.post(
            f"/review/reflections/{target}/erase", data={"csrf": token, "reason": " "}
        )
        assert no_reason.status_code == 400 and "Say why" in no_reason.text
        named = await http.post(
            f"/review/reflections/{target}/erase",
            data={"csrf": token, "reason": "Ailsa Fraser asked"},
        )
        assert named.status_code == 400 and "must not name the person" in named.text
    async with client(privacy.services) as http:
        await sign_in(http, "res@example.org")
        token = await csrf(http, "/review/reflections")
        refused = await http.post(
            f"/review/reflections/{target}/erase", data={"csrf": token, "reason": "because"}
        )
        assert refused.status_code == 404
    assert await _reflection_id(privacy.services, AILSA_WORDS) == target
    assert "kettle" in _outbox_text(privacy)


def test_erase_reflection_on_the_command_line_has_a_dry_run(
    privacy_cli: tuple[Privacy, int],
) -> None:
    from bot.cli import main

    _privacy, target = privacy_cli
    dry = CliRunner().invoke(
        main, ["people", "erase-reflection", str(target), "--reason", "asked", "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert f"Would erase reflection {target}" in dry.output
    done = CliRunner().invoke(
        main, ["people", "erase-reflection", str(target), "--reason", "asked"]
    )
    assert done.exit_code == 0, done.output
    assert "1 outbox digest(s) lost their text." in done.output
    again = CliRunner().invoke(
        main, ["people", "erase-reflection", str(target), "--reason", "asked again"]
    )
    assert again.exit_code == 1 and f"There is no reflection {target}." in again.output


def test_cutting_quotes_leaves_short_common_words_and_other_mail_alone(tmp_path: Path) -> None:
    mail = tmp_path / "digest_1.eml"
    mail.write_text(
        "To: lead@example.org\nSubject: digest\n\n"
        "We heard: ok. Also: the bus was late again today\n"
    )
    other = tmp_path / "digest_2.eml"
    other.write_text("To: lead@example.org\nSubject: digest\n\nNothing of hers here\n")
    assert cut_quotes(tmp_path, ["ok"], [], WEEKLY_TIME) == 0
    assert cut_quotes(tmp_path, ["The bus was  late again today"], [], WEEKLY_TIME) == 1
    assert "bus" not in mail.read_text() and "To: lead@example.org" in mail.read_text()
    assert "Nothing of hers here" in other.read_text()


@pytest.fixture
def privacy_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Privacy, int]:
    async def make(services: Services) -> tuple[Privacy, int]:
        world = await build(services)
        return world, await _reflection_id(services, AILSA_WORDS)

    return built_for_the_cli(tmp_path, monkeypatch, make, outbox=True)
