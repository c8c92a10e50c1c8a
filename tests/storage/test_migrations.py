from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import create_engine, upgrade
from storage.fts import include_name
from storage.models import Base


def _diff(connection) -> list:  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": include_name}
    )
    return compare_metadata(context, Base.metadata)


async def test_migrations_build_exactly_the_schema_the_models_declare(any_db_url: str) -> None:
    await asyncio.to_thread(upgrade, any_db_url)
    engine = create_engine(any_db_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff)
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert diff == []
    assert {"deliveries", "reflections", "inbound_events", "digests"} <= tables


async def test_upgrading_twice_is_harmless(any_db_url: str) -> None:
    await asyncio.to_thread(upgrade, any_db_url)
    await asyncio.to_thread(upgrade, any_db_url)


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("deliveries", {"person_id", "project_id", "slot"}),
        ("inbound_events", {"channel", "event_id"}),
        ("digests", {"kind", "recipient", "scope", "period"}),
    ],
)
async def test_idempotency_keys_are_unique_constraints(
    any_db_url: str, table: str, columns: set[str]
) -> None:
    await asyncio.to_thread(upgrade, any_db_url)
    engine = create_engine(any_db_url)
    try:
        async with engine.connect() as connection:
            uniques = await connection.run_sync(lambda c: inspect(c).get_unique_constraints(table))
    finally:
        await engine.dispose()
    assert columns in [set(u["column_names"]) for u in uniques]
