"""Who the digests could go to, read as plain columns rather than whole people.

Deciding who is due needs a project's id, slug, digest options and zone, and a member's id,
name, e-mail and zone: nothing else. So these reads select just those columns, in the order the
digest loops have always walked them (projects by id, each project's memberships by id), and
:func:`member_pages` reads a project's members a page at a time, each page in a session of its
own, so a check over 10,000 participants never holds all of them at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ChannelIdentity, Membership, Partnership, Person, Project
from storage.queries import keyset_pages

Sessions = async_sessionmaker[AsyncSession]

PAGE = 1000


class ProjectRow(NamedTuple):
    id: int
    slug: str
    digest: dict[str, Any] | None
    timezone: str  # the partnership's


class MemberRow(NamedTuple):
    membership_id: int
    project_id: int
    role: str
    person_id: int
    name: str
    email: str | None
    timezone: str | None  # None: the partnership's


class IdentityRow(NamedTuple):
    id: int
    person_id: int
    channel: str
    workspace: str
    external_id: str
    preferred: bool
    linked_at: datetime | None


async def active_projects(session: AsyncSession) -> list[ProjectRow]:
    """Every active project, by id, with its partnership's zone."""
    rows = await session.execute(
        select(Project.id, Project.slug, Project.digest, Partnership.timezone)
        .join(Partnership, Project.partnership_id == Partnership.id)
        .where(Project.active.is_(True))
        .order_by(Project.id)
    )
    return [ProjectRow(*row) for row in rows]


def _members(roles: Collection[str]) -> Any:
    """Active memberships with these roles, of people still in the study."""
    return (
        select(
            Membership.id,
            Membership.project_id,
            Membership.role,
            Person.id,
            Person.name,
            Person.email,
            Person.timezone,
        )
        .join(Person, Membership.person_id == Person.id)
        .join(Project, Membership.project_id == Project.id)
        .where(
            Project.active.is_(True),
            Membership.role.in_(tuple(roles)),
            Membership.active.is_(True),
            Person.active.is_(True),
            Person.withdrawn_at.is_(None),
        )
    )


async def members(session: AsyncSession, roles: Collection[str]) -> list[MemberRow]:
    """Every active project's active members with these roles, by project and membership id.
    For the few (leads, researchers); participants are read by :func:`member_pages`."""
    rows = await session.execute(_members(roles).order_by(Membership.project_id, Membership.id))
    return [MemberRow(*row) for row in rows]


async def member_pages(
    sessions: Sessions, project_id: int, roles: Collection[str], size: int | None = None
) -> AsyncIterator[list[MemberRow]]:
    """One project's active members with these roles in order of membership id, ``size``
    (:data:`PAGE`) at a time, each page read in a session of its own."""
    size = size or PAGE

    async def read(session: AsyncSession, after: int) -> list[MemberRow]:
        rows = await session.execute(
            _members(roles)
            .where(Membership.project_id == project_id, Membership.id > after)
            .order_by(Membership.id)
            .limit(size)
        )
        return [MemberRow(*row) for row in rows]

    async for page in keyset_pages(sessions, read, lambda row: row.membership_id, size):
        yield page


async def active_identities(
    session: AsyncSession, person_ids: Sequence[int], channels: Collection[str]
) -> dict[int, list[IdentityRow]]:
    """These people's active identities on these channels, by person, each in order of id."""
    found: dict[int, list[IdentityRow]] = {}
    for start in range(0, len(person_ids), 500):
        rows = await session.execute(
            select(
                ChannelIdentity.id,
                ChannelIdentity.person_id,
                ChannelIdentity.channel,
                ChannelIdentity.workspace,
                ChannelIdentity.external_id,
                ChannelIdentity.preferred,
                ChannelIdentity.linked_at,
            )
            .where(
                ChannelIdentity.person_id.in_(person_ids[start : start + 500]),
                ChannelIdentity.status == "active",
                ChannelIdentity.channel.in_(tuple(channels)),
            )
            .order_by(ChannelIdentity.id)
        )
        for row in rows:
            identity = IdentityRow(*row)
            found.setdefault(identity.person_id, []).append(identity)
    return found
