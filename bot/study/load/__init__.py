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

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adapters.errors import StudyError
from bot.services import Services
from bot.study.load.people import People
from bot.study.load.projects import ProjectTree
from bot.study.load.rows import assign
from bot.study.report import LoadReport
from bot.study.validate import read_study
from storage.db import transaction
from storage.models import AuditLog, Event, EventProject, Project, Study, utcnow

log = logging.getLogger(__name__)


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


class _Loader(ProjectTree, People):
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
        changed = assign(row, {"name": spec.name, "options": options})
        if row.source_sha256 != self.sha256:
            row.source_sha256 = self.sha256
            row.loaded_at = utcnow()  # when this version of the file was first loaded
        self._count("study", created, changed)

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
            changed = assign(row, values)
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
            if assign(row, {"active": False}):
                self.report.deactivated["event"] += 1


__all__ = ["LoadReport", "StudyError", "load_study"]
