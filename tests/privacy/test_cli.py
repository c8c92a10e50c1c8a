"""``carbot people erase`` and ``carbot people export`` from the command line."""

from __future__ import annotations

import asyncio
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from bot.services import Services
from storage.models import AuditLog
from tests.privacy.world import PHOTO, Privacy, build
from tests.support.world import built_for_the_cli


@pytest.fixture
def cli_privacy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Privacy:
    return built_for_the_cli(tmp_path, monkeypatch, build, outbox=True)


def test_people_erase_deletes_checks_and_says_so(cli_privacy: Privacy) -> None:
    key = cli_privacy.ailsa_key
    dry = CliRunner().invoke(main, ["people", "erase", key, "--reason", "asked", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would delete for" in dry.output and "4 reflections" in dry.output

    done = CliRunner().invoke(main, ["people", "erase", key, "--reason", "asked by email"])

    assert done.exit_code == 0, done.output
    assert f"Deleted for {cli_privacy.ailsa_code}:" in done.output
    assert "nothing of them remains" in done.output
    assert "mention them" in done.output
    assert f"Remove {key!r} from the study file" in done.output
    again = CliRunner().invoke(main, ["people", "erase", key, "--reason", "asked"])
    assert again.exit_code == 1 and "No person with the key" in again.output


def test_people_erase_exits_1_and_lists_what_remains(cli_privacy: Privacy) -> None:
    stray = cli_privacy.data_dir / "copy-of-signage.jpg"
    stray.write_bytes(PHOTO)

    done = CliRunner().invoke(
        main, ["people", "erase", cli_privacy.ailsa_key, "--reason", "asked by email"]
    )

    assert done.exit_code == 1
    assert "ERASURE INCOMPLETE — still held (1):" in done.output
    assert f"file {stray}: one of their evidence files" in done.output


def test_people_erase_needs_a_reason(cli_privacy: Privacy) -> None:
    done = CliRunner().invoke(main, ["people", "erase", cli_privacy.ailsa_key])
    assert done.exit_code == 2 and "--reason" in done.output


def test_people_export_writes_the_zip_and_records_it_in_the_audit_log(
    cli_privacy: Privacy, tmp_path: Path
) -> None:
    out = tmp_path / "requests" / "ailsa.zip"

    done = CliRunner().invoke(main, ["people", "export", cli_privacy.ailsa_key, "-o", str(out)])

    assert done.exit_code == 0, done.output
    assert f"Wrote {out} for {cli_privacy.ailsa_code}: 4 answers and notes" in done.output
    assert "README.txt" in zipfile.ZipFile(out).namelist()

    async def audit() -> list[tuple[str, str]]:
        services = Services.from_settings(cli_privacy.services.settings)
        try:
            async with services.sessions() as session:
                rows = await session.execute(
                    select(AuditLog.action, AuditLog.target).where(
                        AuditLog.action == "people.export"
                    )
                )
                return [tuple(row) for row in rows]  # type: ignore[misc]
        finally:
            await services.close()

    assert asyncio.run(audit()) == [("people.export", cli_privacy.ailsa_code)]
