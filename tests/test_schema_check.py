"""`carbot run` starts only on the newest schema, and checks it without loading Alembic into the
worker: the newest migrations are read from the migration files as text, and must be the ones
Alembic itself finds."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

from bot.runner import migration_heads, schema_problem
from bot.services import Services
from storage.db import alembic_config, upgrade_async
from tests.conftest import make_settings


def test_the_newest_migration_is_the_one_alembic_finds(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'carbot.db'}"
    alembic = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    assert migration_heads() == alembic


def test_two_branches_are_two_heads_until_a_merge_joins_them(tmp_path: Path) -> None:
    def migration(name: str, revision: str, down: str) -> None:
        text = f'revision: str = "{revision}"\ndown_revision: str | None = {down}\n'
        (tmp_path / f"{name}.py").write_text(text)

    migration("a", "a", "None")
    migration("b", "b", '"a"')
    migration("c", "c", '"a"')
    assert migration_heads(tmp_path) == {"b", "c"}
    migration("d", "d", '("b", "c")')
    assert migration_heads(tmp_path) == {"d"}


async def test_a_database_one_migration_behind_is_refused_until_upgraded(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'carbot.db'}"
    services = Services.from_settings(make_settings(tmp_path, url))
    try:
        assert "run `carbot db upgrade` first" in (await schema_problem(services) or "")
        newest = sorted(migration_heads())[-1]
        behind = f"{int(newest) - 1:04d}"
        await upgrade_async(url, behind)
        assert "run `carbot db upgrade` first" in (await schema_problem(services) or "")
        await upgrade_async(url)
        assert await schema_problem(services) is None
    finally:
        await services.close()
