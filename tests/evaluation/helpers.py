"""Events for evaluation tests: the ``events`` and ``event_projects`` tables as the study loader
writes them, and a helper that adds one event."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    inspect,
)

from bot.services import Services
from storage.db import transaction

EVENT_TABLES = MetaData()
Table(
    "events",
    EVENT_TABLES,
    Column("id", Integer, primary_key=True),
    Column("key", String(80), unique=True),
    Column("name", String(200)),
    Column("kind", String(20)),
    Column("starts_on", Date),
    Column("ends_on", Date),
    Column("active", Boolean, default=True),
)
Table(
    "event_projects",
    EVENT_TABLES,
    Column("event_id", Integer, primary_key=True),
    Column("project_id", Integer, primary_key=True),
)


async def add_event(
    services: Services,
    key: str,
    project_ids: list[int],
    starts_on: date,
    ends_on: date,
    name: str = "the spring retreat",
) -> None:
    """An event the projects take part in. The tables are made when missing and otherwise read
    as they are (the study loader's, with their timestamps)."""
    async with services.engine.begin() as connection:

        def tables(sync: Any) -> tuple[Table, Table]:
            if not inspect(sync).has_table("events"):
                EVENT_TABLES.create_all(sync)
            found = MetaData()
            return (
                Table("events", found, autoload_with=sync),
                Table("event_projects", found, autoload_with=sync),
            )

        events, links = await connection.run_sync(tables)
    stamps = {name: datetime.now(UTC) for name in ("created_at", "updated_at") if name in events.c}
    async with transaction(services.sessions) as session:
        result = await session.execute(
            insert(events).values(
                key=key, name=name, kind="retreat", starts_on=starts_on, ends_on=ends_on,
                active=True, **stamps,
            )
        )  # fmt: skip
        event_id = result.inserted_primary_key[0]  # type: ignore[index]
        for project_id in project_ids:
            await session.execute(insert(links).values(event_id=event_id, project_id=project_id))
