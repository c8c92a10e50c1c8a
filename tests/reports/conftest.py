"""A project with one reflection of each kind a context report must sort, show or leave out.

Fife family hub, one cycle (Scoping from 4 Jan 2027, Exploring evidence from 15 Feb, Testing
change from 1 Apr), a retreat on 16–17 March 2027 (so the period is 4 Jan – 15 Mar). Four
participants; a lead, a researcher and an admin account; a Dundee project and its lead that must
never see any of it. Each reflection's text is its marker.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from bot.review.access import Viewer, cli_viewer
from bot.review.anonymity import released_to_lead
from bot.services import Services
from storage.models import Code, Coding, Event, EventProject
from tests.review.conftest import PASSWORD_HASH
from tests.support import world as build
from tests.support.world import model_cycle


@dataclass(frozen=True)
class Spec:
    marker: str
    person: str
    audience: str
    day: date
    phase: str
    rq: str | None
    prompt: str | None = None
    kind: str = "text"
    file: str | None = None
    code: str | None = None


SPECS = [
    Spec("bg-team-amy", "amy", "team", date(2027, 1, 12), "scoping", "rq1", "context-background"),
    Spec("status-researchers-ben", "ben", "researchers", date(2027, 1, 13), "scoping", "rq1",
         "context-status"),
    Spec("challenges-private-cat", "cat", "private", date(2027, 1, 14), "scoping", "rq1",
         "context-challenges"),
    Spec("evidence-anon-dan", "dan", "team_anonymous", date(2027, 1, 19), "scoping", "rq2",
         "context-evidence", file="dan.png"),
    Spec("evidence-team-amy", "amy", "team", date(2027, 2, 16), "exploring-evidence", "rq1",
         "context-evidence", file="map.png"),
    Spec("coded-team-ben", "ben", "team", date(2027, 2, 17), "exploring-evidence", "rq1",
         code="Evidence gaps"),
    Spec("coded-researchers-amy", "amy", "researchers", date(2027, 2, 18), "exploring-evidence",
         None, code="Challenges"),
    Spec("scale-team-cat", "cat", "team", date(2027, 2, 19), "exploring-evidence", "rq1",
         kind="scale"),
    Spec("gaps-anon-amy", "amy", "team_anonymous", date(2027, 3, 2), "exploring-evidence", "rq2",
         "context-gaps"),
    Spec("gaps-anon-ben", "ben", "team_anonymous", date(2027, 3, 3), "exploring-evidence", "rq2",
         "context-gaps"),
    Spec("gaps-anon-cat", "cat", "team_anonymous", date(2027, 3, 4), "exploring-evidence", "rq2",
         "context-gaps"),
    Spec("after-event-amy", "amy", "team", date(2027, 3, 20), "exploring-evidence", "rq1",
         "context-status"),
]  # fmt: skip
NAMES = {"amy": "Amy Lang", "ben": "Ben Moss", "cat": "Cat Reid", "dan": "Dan Watt"}
RETREAT = (date(2027, 3, 16), date(2027, 3, 17))


@dataclass
class ReportWorld:
    services: Services
    project_id: int = 0
    dundee_id: int = 0
    ids: dict[str, int] = field(default_factory=dict)  # marker -> reflection id
    codes: dict[str, str] = field(default_factory=dict)  # person key -> study code

    async def viewer(self, role: str) -> Viewer:
        """The viewer a role gives: admin, researcher (on this project), lead, other-lead."""
        if role == "admin":
            return cli_viewer()
        if role == "researcher":
            return Viewer(
                user_id=2, email="r@example.org", researcher_projects=frozenset({self.project_id})
            )
        project = self.project_id if role == "lead" else self.dundee_id
        async with self.services.sessions() as session:
            shown = await released_to_lead(session, [project], None, "Europe/London")
        return Viewer(
            user_id=3 if role == "lead" else 4,
            email=f"{role}@example.org",
            lead_projects=frozenset({project}),
            released=shown,
            handle_key=b"k",
        )


async def build_report_world(services: Services) -> ReportWorld:
    world = ReportWorld(services)
    async with services.sessions() as session, session.begin():
        people = {
            key: await build.add_person(session, key, f"P-{key.upper()}", name)
            for key, name in {**NAMES, "lachie": "Lachie Lead", "rhona": "Rhona R",
                              "deirdre": "Deirdre Lead"}.items()
        }  # fmt: skip
        made = await build.add_project(
            session,
            "fife-hub",
            "Fife family hub",
            partnership=("fife", "Fife"),
            aims="Aims-marker.",
            questions=[("rq1", "What helps families?"), ("rq2", "Who shapes the hub?")],
            **model_cycle(date(2027, 1, 4), date(2027, 2, 15), date(2027, 4, 1), date(2027, 6, 30)),
        )
        project, cycle = made.project, made.cycle
        dundee = (
            await build.add_project(
                session, "dundee-hub", "Dundee", partnership=("dundee", "Dundee")
            )
        ).project
        for key in NAMES:
            await build.add_member(session, people[key], project, "participant")
        await build.add_member(session, people["lachie"], project, "lead")
        await build.add_member(session, people["rhona"], project, "researcher")
        await build.add_member(session, people["deirdre"], dundee, "lead")
        event = Event(key="retreat", name="The spring retreat", kind="retreat",
                      starts_on=RETREAT[0], ends_on=RETREAT[1])  # fmt: skip
        session.add(event)
        await session.flush()
        session.add_all(
            [
                EventProject(event_id=event.id, project_id=project.id),
                EventProject(event_id=event.id, project_id=dundee.id),
            ]
        )
        for spec in SPECS:
            when = datetime(spec.day.year, spec.day.month, spec.day.day, 11, tzinfo=UTC)
            where = {
                "cycle_id": cycle.id,
                "phase_id": made.phase(spec.phase).id,
                "research_question_id": made.question(spec.rq).id if spec.rq else None,
            }
            person_id = people[spec.person].id
            delivery = None
            if spec.prompt:
                delivery = await build.add_delivery(
                    session, person_id, project.id, when, prompt_key=spec.prompt,
                    prompt_kind=spec.kind, prompt_text="Context?", status="answered", **where,
                )  # fmt: skip
            reflection = await build.add_reflection(
                session, person_id, project.id, spec.marker, created_at=when,
                audience=spec.audience, kind="evidence" if spec.file else spec.kind,
                delivery_id=delivery.id if delivery else None,
                scale_value=4 if spec.kind == "scale" else None, **where,
            )  # fmt: skip
            world.ids[spec.marker] = reflection.id
            if spec.file:
                await build.add_attachment(
                    session, reflection, spec.file, content_type="image/png", size=1
                )
            if spec.code:
                code = Code(guid=str(uuid.uuid4()), name=spec.code)
                session.add(code)
                await session.flush()
                session.add(
                    Coding(guid=str(uuid.uuid4()), code_id=code.id, reflection_id=reflection.id)
                )
        await build.add_reflection(
            session, people["deirdre"].id, dundee.id, "dundee-team", audience="team",
            created_at=datetime(2027, 3, 1, tzinfo=UTC),
        )  # fmt: skip
        for email, key, admin in [
            ("lead@example.org", "lachie", False),
            ("researcher@example.org", "rhona", False),
            ("dundee-lead@example.org", "deirdre", False),
            ("admin@example.org", None, True),
        ]:
            await build.add_user(
                session, email, PASSWORD_HASH, person=people[key] if key else None, is_admin=admin
            )
        world.project_id, world.dundee_id = project.id, dundee.id
        world.codes = {key: person.study_code for key, person in people.items()}
    return world


@pytest.fixture
async def report_world(services: Services) -> ReportWorld:
    return await build_report_world(services)
