"""Loading a study file into the database: all of it in one transaction, or nothing.

Loading is an upsert keyed by the file's slugs and keys. A row is written only when something in
it changed, so loading the same file twice leaves the database exactly as it was (``updated_at``
included). Nothing is ever deleted that anything may point at: people, projects, partnerships,
memberships and research questions that leave the file are marked inactive, and a cycle or phase
that leaves the file is removed only while no delivery or reflection refers to it.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.errors import StudyError
from bot.services import Services
from bot.study.fields import ROLE_FIELDS, phase_key
from bot.study.report import LoadReport, new_study_code, person_values
from bot.study.schema import ProjectSpec, StudyFile
from bot.study.validate import read_study
from storage.db import transaction
from storage.models import (
    AuditLog,
    ChannelIdentity,
    Cycle,
    Delivery,
    Event,
    EventProject,
    Membership,
    Partnership,
    Person,
    Phase,
    Project,
    Reflection,
    ResearchQuestion,
    Study,
    utcnow,
)
from storage.queries import channel_identity

log = logging.getLogger(__name__)


def _set(row: Any, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; say whether any did (untouched rows are not written)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


async def load_study(services: Services, path: str | Path) -> LoadReport:
    """Validate the study file at ``path`` and load it; :class:`StudyError` lists every problem,
    and then nothing has been written."""
    checked = read_study(path)
    if not checked.ok or checked.study is None:
        raise StudyError(checked.problems)
    sha256 = hashlib.sha256(checked.raw).hexdigest()
    try:
        async with transaction(services.sessions) as session:
            report = await _Loader(session, checked.study, sha256, str(path)).run()
    except IntegrityError as exc:  # e.g. another load of the same file at the same moment
        log.warning("study load from %s refused by the database: %s", path, exc.orig)
        raise StudyError(
            [f"{path}: the database refused the load ({exc.orig}); nothing was written"]
        ) from exc
    if report.changed:
        log.info("study %s loaded from %s", report.study, path, extra={"action": "study.load"})
    return report


class _Loader:
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

    async def run(self) -> LoadReport:
        await self._study()
        people = await self._people()
        projects = await self._partnerships()
        await self._memberships(people, projects)
        await self._identities(people)
        await self._events(projects)
        if self.report.changed:
            self.session.add(
                AuditLog(
                    actor="cli",
                    action="study.load",
                    target=f"study:{self.file.study.slug}",
                    details={
                        "source": self.source,
                        "sha256": self.sha256,
                        "created": dict(self.report.created),
                        "updated": dict(self.report.updated),
                        "deactivated": dict(self.report.deactivated),
                        "removed": dict(self.report.removed),
                    },
                )
            )
        return self.report

    async def _study(self) -> None:
        spec = self.file.study
        existing = await self._all(Study)
        others = [study.slug for study in existing if study.slug != spec.slug]
        if others:
            raise StudyError(
                [
                    f"{self.source}: study.slug: this database holds study {others[0]!r}, "
                    f"not {spec.slug!r}; use a database of its own for another study"
                ]
            )
        # Every consent version's text stays known, so a person asked again can be shown
        # what changed since the version they agreed to.
        earlier = dict(existing[0].options.get("consent_texts") or {}) if existing else {}
        before = existing[0].options.get("consent") if existing else None
        if isinstance(before, dict) and before.get("version"):
            earlier.setdefault(str(before["version"]), str(before.get("text") or ""))
        earlier[spec.consent.version] = spec.consent.text
        options = {
            "consent": {
                "version": spec.consent.version,
                "text": spec.consent.text,
                "changes": spec.consent.changes,
            },
            "consent_texts": earlier,
            "default_audience": spec.default_audience,
            "timezone": spec.timezone,
            "phase_models": spec.all_phase_models(),
            "prompts": spec.prompts.model_dump(mode="json"),
            "digest": spec.digest.as_json(),
            "retention": spec.retention.model_dump(exclude_none=True),
            "time_budget_minutes": spec.time_budget_minutes,
        }
        row = existing[0] if existing else None
        created = row is None
        if row is None:
            row = Study(slug=spec.slug, name=spec.name, options=options)
            self.session.add(row)
        changed = _set(row, {"name": spec.name, "options": options})
        if row.source_sha256 != self.sha256:
            row.source_sha256 = self.sha256
            row.loaded_at = utcnow()  # when this version of the file was first loaded
        self._count("study", created, changed)

    # ── partnerships, projects and what hangs off them ──────────────────────────────────────

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
            changed = _set(
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
            if slug not in file_slugs and _set(row, {"active": False}):
                self.report.deactivated["partnership"] += 1
        for slug, project in projects.items():
            if slug not in in_file and _set(project, {"active": False}):
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
        changed = _set(
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
            changed = _set(
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
            if _set(row, {"active": False}):
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
            self._count("cycle", created, _set(row, values))
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
                self._count("phase", phase_created, _set(phase, phase_values))
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

    # ── events ──────────────────────────────────────────────────────────────────────────────

    async def _events(self, projects: dict[str, Project]) -> None:
        """Upsert each event and the projects taking part; an event that left the file is kept,
        marked inactive (nothing is planned for it any more)."""
        rows = {row.key: row for row in await self._all(Event)}
        by_partnership = {
            spec.slug: [project.slug for project in spec.projects]
            for spec in self.file.partnerships
        }
        for spec in self.file.events:
            row = rows.pop(spec.key, None)
            created = row is None
            values = {
                "name": spec.name,
                "kind": spec.kind,
                "starts_on": spec.starts_on,
                "ends_on": spec.ends_on,
                "active": True,
            }
            if row is None:
                row = Event(key=spec.key, **values)
                self.session.add(row)
                await self.session.flush()
            changed = _set(row, values)
            slugs = set(spec.projects)
            for partnership in spec.partnerships:
                slugs.update(by_partnership.get(partnership, []))
            wanted = {projects[slug].id for slug in slugs if slug in projects}
            taking_part = set(
                await self.session.scalars(
                    select(EventProject.project_id).where(EventProject.event_id == row.id)
                )
            )
            for project_id in sorted(wanted - taking_part):
                self.session.add(EventProject(event_id=row.id, project_id=project_id))
            for project_id in taking_part - wanted:
                link = await self.session.get(EventProject, (row.id, project_id))
                if link is not None:
                    await self.session.delete(link)
            self._count("event", created, changed or wanted != taking_part)
        for row in rows.values():
            if _set(row, {"active": False}):
                self.report.deactivated["event"] += 1

    # ── people ──────────────────────────────────────────────────────────────────────────────

    async def _people(self) -> dict[str, Person]:
        people = {row.key: row for row in await self._all(Person)}
        codes = {row.study_code for row in people.values()}
        in_file: set[str] = set()
        for spec in self.file.people:
            in_file.add(spec.key)
            row = people.get(spec.key)
            created = row is None
            if row is None:
                code = new_study_code(codes)
                codes.add(code)
                row = Person(key=spec.key, study_code=code, name=spec.name)
                self.session.add(row)
                people[spec.key] = row
            self._count("person", created, _set(row, person_values(spec)))
        for key, row in people.items():
            if key not in in_file and _set(row, {"active": False}):
                self.report.deactivated["person"] += 1
        await self.session.flush()
        return people

    async def _memberships(self, people: dict[str, Person], projects: dict[str, Project]) -> None:
        rows = {
            (row.person_id, row.project_id, row.role): row for row in await self._all(Membership)
        }
        wanted: set[tuple[int, int, str]] = set()
        for partnership in self.file.partnerships:
            for spec in partnership.projects:
                project = projects[spec.slug]
                for field_name, role in ROLE_FIELDS.items():
                    for key in getattr(spec.team, field_name):
                        wanted.add((people[key].id, project.id, role))
        for ident in sorted(wanted):
            row = rows.get(ident)
            if row is None:
                person_id, project_id, role = ident
                self.session.add(Membership(person_id=person_id, project_id=project_id, role=role))
                self.report.created["membership"] += 1
            elif _set(row, {"active": True}):
                self.report.updated["membership"] += 1
        for ident, row in rows.items():
            if ident not in wanted and _set(row, {"active": False}):
                self.report.deactivated["membership"] += 1

    async def _identities(self, people: dict[str, Person]) -> None:
        for spec in self.file.people:
            person = people[spec.key]
            handles: list[tuple[str, str, str]] = []
            if spec.channels.telegram:
                handles.append(("telegram", "", spec.channels.telegram))
            if spec.channels.slack:
                handles.append(("slack", spec.channels.slack.workspace, spec.channels.slack.user))
            for channel, workspace, external_id in handles:
                row = await channel_identity(
                    self.session, channel, external_id, workspace, revoked_too=True
                )
                if row is None:
                    self.session.add(
                        ChannelIdentity(
                            person_id=person.id,
                            channel=channel,
                            workspace=workspace,
                            external_id=external_id,
                            status="active",
                            linked_at=utcnow(),
                        )
                    )
                    self.report.created["channel identity"] += 1
                elif row.person_id != person.id:
                    owner = await self.session.scalar(
                        select(Person.key).where(Person.id == row.person_id)
                    )
                    raise StudyError(
                        [
                            f"{self.source}: people[{self.file.people.index(spec)}].channels."
                            f"{channel}: {external_id} is already linked to person {owner!r}"
                        ]
                    )


__all__ = ["LoadReport", "StudyError", "load_study"]
