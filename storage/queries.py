"""The lookups that several parts of carbot make: written once, here.

Plain functions of an ``AsyncSession``; none commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ChannelIdentity, Study


async def the_study(session: AsyncSession) -> Study | None:
    """The study loaded into this database (the first, should there ever be several)."""
    return await session.scalar(select(Study).order_by(Study.id).limit(1))


async def study_options(session: AsyncSession) -> dict[str, Any]:
    """The loaded study's options (digest, retention, prompts…); {} when none is loaded."""
    study = await the_study(session)
    return dict(study.options or {}) if study is not None else {}


async def channel_identity(
    session: AsyncSession,
    channel: str,
    external_id: str,
    workspace: str | None = None,
    *,
    revoked_too: bool = False,
) -> ChannelIdentity | None:
    """The identity a platform knows as ``external_id`` (in Slack ``workspace``) on ``channel``;
    one that was revoked only with ``revoked_too`` (to link the same handle again)."""
    query = select(ChannelIdentity).where(
        ChannelIdentity.channel == channel,
        ChannelIdentity.workspace == (workspace or ""),
        ChannelIdentity.external_id == external_id,
    )
    if not revoked_too:
        query = query.where(ChannelIdentity.status != "revoked")
    return await session.scalar(query)


Row = TypeVar("Row")


async def keyset_pages(
    sessions: async_sessionmaker[AsyncSession],
    read: Callable[[AsyncSession, int], Awaitable[list[Row]]],
    key: Callable[[Row], int],
    size: int,
) -> AsyncIterator[list[Row]]:
    """Rows a page at a time, each page read in a session of its own, so no identity map
    outlives its page: ``read(session, after)`` gives up to ``size`` rows whose ``key`` is
    above ``after``, in ``key`` order."""
    after = 0
    while True:
        async with sessions() as session:
            page = await read(session, after)
        if not page:
            return
        yield page
        if len(page) < size:
            return
        after = key(page[-1])
