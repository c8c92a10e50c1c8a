"""Everything a person's data is in the database, to show that bad input changed none of it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.services import Services
from storage.models import (
    Attachment,
    ChannelIdentity,
    ConsentRecord,
    Delivery,
    LinkCode,
    Membership,
    Person,
    Reflection,
)

PEOPLES_DATA = (
    Person,
    ChannelIdentity,
    LinkCode,
    ConsentRecord,
    Membership,
    Delivery,
    Reflection,
    Attachment,
)


async def stored_data(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables holding people, their identities, consent, prompts and answers."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    async with services.sessions() as session:
        for model in PEOPLES_DATA:
            columns = list(model.__table__.columns)  # type: ignore[attr-defined]
            rows = await session.scalars(select(model))
            snapshot[model.__name__] = sorted(
                (tuple(getattr(row, c.key) for c in columns) for row in rows), key=repr
            )
    return snapshot
