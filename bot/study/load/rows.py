"""What every part of a study load shares: the session, the file, the report of what changed,
and writing a row only when one of its values differs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.study.report import LoadReport
from bot.study.schema import StudyFile
from storage.models import Project


def assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; say whether any did (untouched rows are not written)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


class LoaderBase:
    def __init__(self, session: AsyncSession, study: StudyFile, sha256: str, source: str) -> None:
        self.session = session
        self.file = study
        self.sha256 = sha256
        self.source = source
        self.report = LoadReport(study=study.study.slug)

    def _count(self, kind: str, created: bool, changed: bool) -> None:
        if created:
            self.report.created[kind] += 1
        elif changed:
            self.report.updated[kind] += 1

    async def _all(self, model: type[Any]) -> list[Any]:
        return list((await self.session.scalars(select(model).order_by(model.id))).all())

    async def _by_key(self, model: type[Any], project: Project) -> dict[str, Any]:
        """The project's rows of ``model`` (research questions, cycles) by their key."""
        query = select(model).where(model.project_id == project.id)
        return {row.key: row for row in await self.session.scalars(query)}
