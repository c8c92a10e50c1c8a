"""Loading a study file's partnerships and projects, with their research questions, cycles and
phases; a cycle or phase that left the file is removed only while nothing refers to it."""

from __future__ import annotations

from sqlalchemy import func, select

from adapters.errors import StudyError
from bot.study.fields import phase_key
from bot.study.load.rows import LoaderBase, assign
from bot.study.schema import ProjectSpec
from storage.models import (
    Cycle,
    Delivery,
    Partnership,
    Phase,
    Project,
    Reflection,
    ResearchQuestion,
)


class ProjectTree(LoaderBase):
    async def _partnerships(self) -> dict[str, Project]:
        study = self.file.study
        partnerships = {row.slug: row for row in await self._all(Partnership)}
        projects = {row.slug: row for row in await self._all(Project)}
        in_file: set[str] = set()
        for spec in self.file.partnerships:
            row = partnerships.get(spec.slug)
            created = row is None
            if row is None:
                row = Partnership(slug=spec.slug, name=spec.name)
                self.session.add(row)
                partnerships[spec.slug] = row
            changed = assign(
                row,
                {"name": spec.name, "timezone": spec.timezone or study.timezone, "active": True},
            )
            self._count("partnership", created, changed)
            if created:
                await self.session.flush()
            for project_spec in spec.projects:
                in_file.add(project_spec.slug)
                projects[project_spec.slug] = await self._project(
                    project_spec, row, projects.get(project_spec.slug)
                )
        file_slugs = {spec.slug for spec in self.file.partnerships}
        for slug, row in partnerships.items():
            if slug not in file_slugs and assign(row, {"active": False}):
                self.report.deactivated["partnership"] += 1
        for slug, project in projects.items():
            if slug not in in_file and assign(project, {"active": False}):
                self.report.deactivated["project"] += 1
        return {slug: row for slug, row in projects.items() if slug in in_file}

    async def _project(
        self, spec: ProjectSpec, partnership: Partnership, row: Project | None
    ) -> Project:
        study = self.file.study
        digest = study.digest.overridden(spec.digest)
        created = row is None
        if row is None:
            row = Project(slug=spec.slug, partnership_id=partnership.id, name=spec.name)
            self.session.add(row)
        changed = assign(
            row,
            {
                "partnership_id": partnership.id,
                "name": spec.name,
                "aims": spec.aims,
                "phase_model": spec.phase_model,
                "cadence": spec.cadence.model_dump(mode="json"),
                "digest": digest.as_json(),
                "default_audience": spec.default_audience or study.default_audience,
                "active": True,
            },
        )
        self._count("project", created, changed)
        if created:
            await self.session.flush()
        await self._research_questions(spec, row)
        await self._cycles(spec, row)
        return row

    async def _research_questions(self, spec: ProjectSpec, project: Project) -> None:
        rows = await self._by_key(ResearchQuestion, project)
        for position, question in enumerate(spec.research_questions):
            row = rows.pop(question.key, None)
            created = row is None
            if row is None:
                row = ResearchQuestion(project_id=project.id, key=question.key, text=question.text)
                self.session.add(row)
            changed = assign(
                row,
                {
                    "text": question.text,
                    "themes": list(question.themes),
                    "position": position,
                    "active": True,
                },
            )
            self._count("research question", created, changed)
        for row in rows.values():
            if assign(row, {"active": False}):
                self.report.deactivated["research question"] += 1

    async def _cycles(self, spec: ProjectSpec, project: Project) -> None:
        model = self.file.study.all_phase_models()[spec.phase_model]
        names = {phase_key(name): name for name in model}
        cycles = await self._by_key(Cycle, project)
        for position, cycle_spec in enumerate(spec.cycles):
            row = cycles.pop(cycle_spec.key, None)
            created = row is None
            values = {
                "name": cycle_spec.name,
                "position": position,
                "starts_on": cycle_spec.phases[0].starts_on,
                "ends_on": max(phase.ends_on for phase in cycle_spec.phases),
            }
            if row is None:
                row = Cycle(project_id=project.id, key=cycle_spec.key, **values)
                self.session.add(row)
                await self.session.flush()
            self._count("cycle", created, assign(row, values))
            phases = {
                phase.key: phase
                for phase in await self.session.scalars(
                    select(Phase).where(Phase.cycle_id == row.id)
                )
            }
            for phase_position, phase_spec in enumerate(cycle_spec.phases):
                key = phase_key(phase_spec.name)
                phase = phases.pop(key, None)
                phase_values = {
                    "name": names[key],
                    "position": phase_position,
                    "starts_on": phase_spec.starts_on,
                    "ends_on": phase_spec.ends_on,
                }
                phase_created = phase is None
                if phase is None:
                    phase = Phase(cycle_id=row.id, key=key, **phase_values)
                    self.session.add(phase)
                self._count("phase", phase_created, assign(phase, phase_values))
            for phase in phases.values():
                await self._remove(
                    phase, f"{project.slug}: cycle {row.key!r}, phase {phase.name!r}"
                )
        for row in cycles.values():
            for phase in await self.session.scalars(select(Phase).where(Phase.cycle_id == row.id)):
                await self._remove(
                    phase, f"{project.slug}: cycle {row.key!r}, phase {phase.name!r}"
                )
            await self._remove(row, f"{project.slug}: cycle {row.key!r}")

    async def _remove(self, row: Cycle | Phase, what: str) -> None:
        """Delete a cycle or phase that left the file, unless something refers to it."""
        column = "cycle_id" if isinstance(row, Cycle) else "phase_id"
        used = 0
        for model in (Delivery, Reflection):
            used += (
                await self.session.scalar(
                    select(func.count()).select_from(model).where(getattr(model, column) == row.id)
                )
                or 0
            )
        if used:
            raise StudyError(
                [
                    f"{self.source}: {what} is no longer in the file, but {used} deliveries or "
                    "reflections refer to it; put it back (its dates may change)"
                ]
            )
        await self.session.delete(row)
        self.report.removed["cycle" if isinstance(row, Cycle) else "phase"] += 1
