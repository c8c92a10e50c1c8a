"""The tests' copied schemas (tests/support/schema.py) are the very schema ``create_all`` makes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.models import Base
from tests.conftest import fresh_postgres_database, requires_postgres
from tests.support.schema import create_schema


async def _shape(engine: AsyncEngine) -> dict[str, object]:
    def read(connection: object) -> dict[str, object]:
        seen = inspect(connection)
        return {
            table: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in seen.get_columns(table)],
                sorted(str(sorted(i["column_names"])) for i in seen.get_indexes(table)),
                sorted(str(f["referred_table"]) for f in seen.get_foreign_keys(table)),
            )
            for table in sorted(seen.get_table_names())
        }

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def test_a_copied_sqlite_schema_is_the_schema_create_all_makes(tmp_path: Path) -> None:
    copied = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'copied.db'}")
    made = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'made.db'}")
    await create_schema(copied)
    async with made.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)

    copied_shape, made_shape = await _shape(copied), await _shape(made)
    await copied.dispose()
    await made.dispose()

    assert set(copied_shape) == set(Base.metadata.tables)
    assert copied_shape == made_shape


@requires_postgres
async def test_a_postgresql_database_cloned_from_the_template_is_the_schema_create_all_makes() -> (
    None
):
    async with (
        fresh_postgres_database(with_schema=True) as cloned_url,
        fresh_postgres_database() as made_url,
    ):
        cloned, made = create_engine(cloned_url), create_engine(made_url)
        async with made.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        cloned_shape, made_shape = await _shape(cloned), await _shape(made)
        await cloned.dispose()
        await made.dispose()

    assert set(cloned_shape) == set(Base.metadata.tables)
    assert cloned_shape == made_shape
