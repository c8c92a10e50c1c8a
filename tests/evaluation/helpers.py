"""Events for evaluation tests: the ``events`` and ``event_projects`` tables as the study loader
writes them, and a helper that adds one event."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
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
    Column("event_id", Integer, ForeignKey("events.id"), primary_key=True),
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
    """An event the projects take part in (the event tables made when missing)."""
    async with services.engine.begin() as connection:

        def missing(sync: object) -> bool:
            return not inspect(sync).has_table("events")  # type: ignore[arg-type]

        if await connection.run_sync(missing):
            await connection.run_sync(EVENT_TABLES.create_all)
    events, links = EVENT_TABLES.tables["events"], EVENT_TABLES.tables["event_projects"]
    async with transaction(services.sessions) as session:
        result = await session.execute(
            insert(events).values(
                key=key, name=name, kind="retreat", starts_on=starts_on, ends_on=ends_on,
                active=True,
            )
        )  # fmt: skip
        event_id = result.inserted_primary_key[0]  # type: ignore[index]
        for project_id in project_ids:
            await session.execute(insert(links).values(event_id=event_id, project_id=project_id))
