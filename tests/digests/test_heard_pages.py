"""Deciding who is due a "what we heard" reads a project's participants a page at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.engine.heard import send_what_we_heard
from digests import roster
from storage.db import transaction
from storage.models import Digest
from tests.digests.factory import add_reflection, add_team
from tests.digests.helpers import HEARD_TIME, RecordingChannel


async def test_everyone_is_reached_once_when_participants_are_read_two_at_a_time(
    services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=5)
        for member in team.members:
            await add_reflection(session, team, member, "Waiting times at the hub came up again")
    pages: list[list[int]] = []
    read_pages = roster.member_pages

    async def recorded(*args: Any, **kwargs: Any) -> AsyncIterator[list[roster.MemberRow]]:
        async for page in read_pages(*args, **kwargs):
            pages.append([m.person_id for m in page])
            yield page

    monkeypatch.setattr(roster, "PAGE", 2)
    monkeypatch.setattr(roster, "member_pages", recorded)
    channel = RecordingChannel()

    sent = await send_what_we_heard(services, {"webchat": channel}, HEARD_TIME)
    again = await send_what_we_heard(services, {"webchat": channel}, HEARD_TIME)

    assert (sent, again) == (5, 0)
    assert [len(p) for p in pages] == [2, 2, 1, 2, 2, 1]  # two runs, three pages each
    async with services.sessions() as session:
        rows = list(await session.scalars(select(Digest).order_by(Digest.id)))
    assert [r.recipient for r in rows] == [f"person:{m.id}" for m in team.members]
