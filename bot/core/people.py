"""What the core needs to know about a person: zone, projects, consent, default audience."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from digests.audience import SMALL_N
from digests.data import participant_count
from storage.models import AUDIENCES, ConsentRecord, Membership, Person, Project
from storage.queries import study_options


async def active_projects(session: AsyncSession, person: Person) -> list[Project]:
    """The active projects ``person`` is an active member of, in a stable order."""
    member_of = select(Membership.project_id).where(
        Membership.person_id == person.id, Membership.active.is_(True)
    )
    rows = await session.scalars(
        select(Project)
        .where(Project.id.in_(member_of), Project.active.is_(True))
        .order_by(Project.name, Project.id)
    )
    return list(rows)


async def too_small_for_anonymity(session: AsyncSession, person: Person) -> list[Project]:
    """The person's projects with fewer than :data:`SMALL_N` participants: there, "Team, no
    name" cannot hide who wrote an answer, and the lead's digest holds such answers back."""
    return [
        project
        for project in await active_projects(session, person)
        if await participant_count(session, project.id) < SMALL_N
    ]


async def person_zone(session: AsyncSession, person: Person, default: str) -> ZoneInfo:
    """The person's own zone, else their first project's partnership zone, else ``default``."""
    names: list[str] = []
    if person.timezone:
        names.append(person.timezone)
    for project in await active_projects(session, person):
        await session.refresh(project, ["partnership"])
        names.append(project.partnership.timezone)
    study_zone = (await study_options(session)).get("timezone")
    if isinstance(study_zone, str):
        names.append(study_zone)
    names.append(default)
    for name in names:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


async def active_consent(session: AsyncSession, person: Person) -> ConsentRecord | None:
    return await session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.person_id == person.id, ConsentRecord.withdrawn_at.is_(None))
        .order_by(ConsentRecord.given_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )


async def default_audience(session: AsyncSession, person: Person, project: Project | None) -> str:
    """The person's default, else the project's, else the study's, else ``team_anonymous``."""
    if person.default_audience in AUDIENCES:
        return person.default_audience
    if project is not None and project.default_audience in AUDIENCES:
        return project.default_audience
    study_default = (await study_options(session)).get("default_audience")
    if isinstance(study_default, str) and study_default in AUDIENCES:
        return study_default
    return "team_anonymous"
