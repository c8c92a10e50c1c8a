from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from bot.cli import main


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found.extend(_all_commands(command, (*prefix, name)))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", _all_commands(main), ids=lambda p: " ".join(p) or "carbot")
def test_every_command_explains_itself_with_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert command.help, f"`carbot {' '.join(path)}` has no help text"


def test_an_unknown_command_gets_a_clear_answer_and_a_non_zero_exit() -> None:
    result = CliRunner().invoke(main, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.output


def test_db_upgrade_creates_the_database(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    database = tmp_path / "fresh.db"
    monkeypatch.setenv("CARBOT_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert database.exists()
    again = CliRunner().invoke(main, ["db", "upgrade"])
    assert again.exit_code == 0, again.output
