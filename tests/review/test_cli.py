from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from bot.review import auth, throttle
from bot.services import Services
from storage.models import AuditLog, Reflection, User
from tests.review.conftest import World, marker
from tests.review.helpers import client, run_cli, sign_in, with_services

NOW = datetime.now(UTC)


def test_user_add_prints_a_sign_in_that_works(cli_world: World) -> None:
    result = run_cli(
        "user", "add", "new.researcher@example.org", "--role", "researcher", "--person", "rhona"
    )
    assert "/review/sign-in" in result.output
    password = result.output.split("password: ")[1].split()[0]

    async def check(services: Services) -> int:
        async with client(services) as http:
            return (await sign_in(http, "new.researcher@example.org", password)).status_code

    assert with_services(cli_world, check) == 303


def test_user_add_reads_a_password_from_stdin_and_refuses_a_duplicate(cli_world: World) -> None:
    result = run_cli(
        "user",
        "add",
        "boss@example.org",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert "password:" not in result.output
    again = CliRunner().invoke(main, ["user", "add", "boss@example.org", "--role", "admin"])
    assert again.exit_code != 0 and "already an account" in again.output


def test_a_researcher_account_needs_a_person(cli_world: World) -> None:
    result = CliRunner().invoke(main, ["user", "add", "nobody@example.org", "--role", "researcher"])
    assert result.exit_code != 0 and "--person" in result.output


def test_user_reset_lifts_the_sign_in_throttle_and_sets_up_a_second_factor(
    cli_world: World,
) -> None:
    async def fail(services: Services) -> str:
        async with services.sessions() as session, session.begin():
            for _ in range(throttle.PER_ADDRESS_AND_CLIENT.after):
                result = await auth.sign_in(session, "lead@example.org", "guess", "", NOW, "")
            return result.message

    assert "Try again in" in with_services(cli_world, fail)
    result = run_cli("user", "reset", "lead@example.org", "--totp")
    assert "otpauth://" in result.output and "throttle lifted" in result.output

    async def check(services: Services) -> tuple[User, bool]:
        async with services.sessions() as session:
            account = (
                await session.execute(select(User).where(User.email == "lead@example.org"))
            ).scalar_one()
            waiting = await throttle.waiting(session, "lead@example.org", "", NOW)
        return account, waiting is not None

    account, waiting = with_services(cli_world, check)
    assert account.totp_secret and account.active and not waiting


def test_export_csv_writes_the_filtered_reflections_and_is_audited(
    cli_world: World, tmp_path: Path
) -> None:
    target = tmp_path / "out.csv"
    result = run_cli(
        "export", "csv", "--project", "fife-hub", "--from", "2027-03-01", "-o", str(target)
    )
    assert "Wrote 4 reflection(s)" in result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert {r["audience"] for r in rows} == {"researchers", "team_anonymous", "team"}
    assert all(r["participant"] == "P-001" for r in rows)
    assert not any(marker("fife", "private") in r["text"] for r in rows)

    async def audit(services: Services) -> list[AuditLog]:
        async with services.sessions() as session:
            return list(
                (
                    await session.execute(select(AuditLog).where(AuditLog.action == "export_csv"))
                ).scalars()
            )

    entries = with_services(cli_world, audit)
    assert [(e.actor, e.details["reflections"]) for e in entries] == [("cli", 4)]


def test_export_qdpx_and_qdc_from_the_command_line(cli_world: World, tmp_path: Path) -> None:
    run_cli("export", "qdpx", "-o", str(tmp_path / "all.qdpx"))
    with zipfile.ZipFile(tmp_path / "all.qdpx") as archive:
        assert "project.qde" in archive.namelist()
    run_cli("export", "qdc", "-o", str(tmp_path / "codes.qdc"))
    assert b"CodeBook" in (tmp_path / "codes.qdc").read_bytes()


def test_export_names_an_unknown_partnership(cli_world: World, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", "csv", "--partnership", "atlantis", "-o", str(tmp_path / "x.csv")]
    )
    assert result.exit_code != 0 and "atlantis" in result.output


def test_export_csv_keeps_formula_like_cells_only_with_raw_cells(
    cli_world: World, tmp_path: Path
) -> None:
    async def add(services: Services) -> None:
        async with services.sessions() as session, session.begin():
            team = await session.get(Reflection, cli_world.reflections[("fife", "team")])
            assert team is not None
            team.text = "-2 families came, +1 on last week"

    with_services(cli_world, add)
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    run_cli("export", "csv", "-o", str(safe))
    run_cli("export", "csv", "--raw-cells", "-o", str(raw))

    def text(path: Path) -> set[str]:
        return {r["text"] for r in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))}

    assert "'-2 families came, +1 on last week" in text(safe)
    assert "-2 families came, +1 on last week" in text(raw)
