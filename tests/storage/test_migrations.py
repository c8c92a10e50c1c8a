from __future__ import annotations

import asyncio
import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, insert, inspect, text

from storage.db import alembic_config, create_engine, upgrade
from storage.fts import include_name
from storage.models import Base, Partnership


def head_revision(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


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
    engine = create_engine(any_db_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(Partnership.__table__).values(slug="fife", name="Fife", timezone="UTC")
            )
        await asyncio.to_thread(upgrade, any_db_url)  # again, on a database in use
        async with engine.connect() as connection:
            kept = (await connection.execute(text("SELECT slug FROM partnerships"))).scalars().all()
            versions = await connection.execute(text("SELECT version_num FROM alembic_version"))
            revisions = versions.scalars().all()
            diff = await connection.run_sync(_diff)
    finally:
        await engine.dispose()
    assert kept == ["fife"]  # nothing was dropped or rebuilt
    assert revisions == [head_revision(any_db_url)]  # one row, at the newest migration
    assert diff == []


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


def _allowed_values(metadata_constraint: object) -> list[str]:
    """The values of a model's ``column IN ('a', 'b')`` check, or [] for another kind of check."""
    found = re.fullmatch(r"\s*\w+ IN \((.*)\)\s*", str(getattr(metadata_constraint, "sqltext", "")))
    return re.findall(r"'([^']*)'", found.group(1)) if found else []


async def test_the_migrated_schema_allows_every_value_the_models_allow(any_db_url: str) -> None:
    """Autogenerate does not compare CHECK constraints, so a value added to a model's list (a new
    channel, a new status) without a migration is caught here: a migrated database would refuse
    the first row that uses it."""
    await asyncio.to_thread(upgrade, any_db_url)
    engine = create_engine(any_db_url)
    expected = {
        (table.name, constraint.name): values
        for table in Base.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint) and (values := _allowed_values(constraint))
    }
    try:
        async with engine.connect() as connection:
            migrated = await connection.run_sync(
                lambda c: {
                    (table, check["name"]): check["sqltext"]
                    for table in inspect(c).get_table_names()
                    for check in inspect(c).get_check_constraints(table)
                }
            )
    finally:
        await engine.dispose()
    assert ("channel_identities", "ck_channel_identities_channel") in expected
    missing = [
        f"{table}.{name}: {value!r}"
        for (table, name), values in expected.items()
        for value in values
        if f"'{value}'" not in migrated.get((table, name), "")
    ]
    assert missing == []
