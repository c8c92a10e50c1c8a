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
from storage.models import (
    Attachment,
    Code,
    Coding,
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
    User,
)
from tests.review.conftest import PASSWORD_HASH


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
            key: Person(key=key, study_code=f"P-{key.upper()}", name=name)
            for key, name in {**NAMES, "lachie": "Lachie Lead", "rhona": "Rhona R",
                              "deirdre": "Deirdre Lead"}.items()
        }  # fmt: skip
        session.add_all(people.values())
        fife = Partnership(slug="fife", name="Fife")
        project = Project(
            partnership=fife, slug="fife-hub", name="Fife family hub", aims="Aims-marker."
        )
        questions = {
            "rq1": ResearchQuestion(project=project, key="rq1", text="What helps families?"),
            "rq2": ResearchQuestion(project=project, key="rq2", text="Who shapes the hub?",
                                    position=1),
        }  # fmt: skip
        cycle = Cycle(
            project=project, key="c1", name="Cycle 1",
            starts_on=date(2027, 1, 4), ends_on=date(2027, 6, 30),
        )  # fmt: skip
        phases = {
            "scoping": Phase(cycle=cycle, key="scoping", name="Scoping", position=0,
                             starts_on=date(2027, 1, 4), ends_on=date(2027, 2, 14)),
            "exploring-evidence": Phase(cycle=cycle, key="exploring-evidence",
                                        name="Exploring evidence", position=1,
                                        starts_on=date(2027, 2, 15), ends_on=date(2027, 3, 31)),
            "testing-change": Phase(cycle=cycle, key="testing-change", name="Testing change",
                                    position=2, starts_on=date(2027, 4, 1),
                                    ends_on=date(2027, 6, 30)),
        }  # fmt: skip
        dundee = Project(
            partnership=Partnership(slug="dundee", name="Dundee"), slug="dundee-hub", name="Dundee"
        )
        session.add_all([project, cycle, dundee, *questions.values(), *phases.values()])
        for key in NAMES:
            session.add(Membership(person=people[key], project=project, role="participant"))
        session.add(Membership(person=people["lachie"], project=project, role="lead"))
        session.add(Membership(person=people["rhona"], project=project, role="researcher"))
        session.add(Membership(person=people["deirdre"], project=dundee, role="lead"))
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
            phase = phases[spec.phase]
            rq_id = questions[spec.rq].id if spec.rq else None
            delivery = None
            if spec.prompt:
                delivery = Delivery(
                    person=people[spec.person], project=project, slot=when, due_at=when,
                    cycle_id=cycle.id, phase_id=phase.id, research_question_id=rq_id,
                    prompt_key=spec.prompt, prompt_kind=spec.kind, prompt_text="Context?",
                    status="answered",
                )  # fmt: skip
                session.add(delivery)
            reflection = Reflection(
                person=people[spec.person], project=project, delivery=delivery,
                cycle_id=cycle.id, phase_id=phase.id, research_question_id=rq_id,
                kind="evidence" if spec.file else spec.kind, text=spec.marker,
                scale_value=4 if spec.kind == "scale" else None,
                audience=spec.audience, channel="webchat", created_at=when,
            )  # fmt: skip
            session.add(reflection)
            await session.flush()
            world.ids[spec.marker] = reflection.id
            if spec.file:
                session.add(
                    Attachment(
                        reflection_id=reflection.id, kind="photo", filename=spec.file,
                        content_type="image/png", size=1, sha256="0" * 64,
                        path=f"evidence/{spec.file}",
                    )
                )  # fmt: skip
            if spec.code:
                code = Code(guid=str(uuid.uuid4()), name=spec.code)
                session.add(code)
                await session.flush()
                session.add(
                    Coding(guid=str(uuid.uuid4()), code_id=code.id, reflection_id=reflection.id)
                )
        dundee_reflection = Reflection(
            person=people["deirdre"], project=dundee, kind="text", text="dundee-team",
            audience="team", channel="webchat", created_at=datetime(2027, 3, 1, tzinfo=UTC),
        )  # fmt: skip
        session.add(dundee_reflection)
        for email, key, admin in [
            ("lead@example.org", "lachie", False),
            ("researcher@example.org", "rhona", False),
            ("dundee-lead@example.org", "deirdre", False),
            ("admin@example.org", None, True),
        ]:
            session.add(
                User(
                    email=email,
                    person=people[key] if key else None,
                    is_admin=admin,
                    password_hash=PASSWORD_HASH,
                )
            )
        await session.flush()
        world.project_id, world.dundee_id = project.id, dundee.id
        world.codes = {key: person.study_code for key, person in people.items()}
    return world


@pytest.fixture
async def report_world(services: Services) -> ReportWorld:
    return await build_report_world(services)
