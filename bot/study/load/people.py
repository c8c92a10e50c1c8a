"""Loading a study file's people, their memberships of projects and their channel identities."""

from __future__ import annotations

from sqlalchemy import select

from adapters.errors import StudyError
from bot.study.fields import ROLE_FIELDS
from bot.study.load.rows import LoaderBase, assign
from bot.study.report import new_study_code, person_values
from storage.models import ChannelIdentity, Membership, Person, Project, utcnow
from storage.queries import channel_identity


class People(LoaderBase):
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
            self._count("person", created, assign(row, person_values(spec)))
        for key, row in people.items():
            if key not in in_file and assign(row, {"active": False}):
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
            elif assign(row, {"active": True}):
                self.report.updated["membership"] += 1
        for ident, row in rows.items():
            if ident not in wanted and assign(row, {"active": False}):
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
