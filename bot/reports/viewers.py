"""Who a report is built for, and the prompt library that names its sections."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.errors import PromptLibraryError
from bot.review.access import Viewer, cli_viewer
from bot.review.anonymity import released_to_lead
from prompts.library import Library, load_library
from storage.models import Project
from storage.queries import the_study


async def study_library(session: AsyncSession) -> Library:
    """The prompt library as the study has it (its own context prompts included)."""
    study = await the_study(session)
    try:
        return load_library(study.options if study is not None else None)
    except PromptLibraryError:
        return load_library(None)


async def command_line_viewer(
    session: AsyncSession, project_slug: str, view: str, timezone: str
) -> Viewer:
    """The command line as the project's lead (what their digest shows) or as researchers do."""
    if view == "researcher":
        return cli_viewer(timezone)
    project_id = await session.scalar(select(Project.id).where(Project.slug == project_slug))
    if project_id is None:
        return Viewer(user_id=None, email="cli", timezone=timezone)
    shown = await released_to_lead(session, [project_id], None, timezone)
    return Viewer(
        user_id=None,
        email="cli",
        lead_projects=frozenset({project_id}),
        timezone=timezone,
        released=shown,
    )
