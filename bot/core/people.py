"""What the core needs to know about a person: zone, projects, consent, default audience."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.availability import zone_for
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
    """The zone this person's times are told in: the one the engine plans their prompts in
    (:func:`bot.engine.availability.zone_for`, for their first project); before they join a
    project, their own zone, else the study's, else ``default``."""
    study_zone = (await study_options(session)).get("timezone")
    fallback = study_zone if isinstance(study_zone, str) else default
    projects = await active_projects(session, person)
    if projects:
        await session.refresh(projects[0], ["partnership"])
        name = zone_for(person, projects[0], fallback)
    else:
        name = person.timezone or fallback
    for candidate in (name, default):
        try:
            return ZoneInfo(candidate)
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
