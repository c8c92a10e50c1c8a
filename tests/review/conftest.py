"""A small study for the review workspace, built from storage.models rows.

Two partnerships (Fife, Dundee), one project each, one participant each, one reflection per
audience per project, and four accounts: a researcher and a lead on the Fife project, a lead on
the Dundee project, and an admin.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from bot.services import Services
from storage import fts
from storage.models import (
    AUDIENCES,
    Attachment,
    Base,
    Cycle,
    Delivery,
    Membership,
    Partnership,
    Person,
    Phase,
    Project,
    Reflection,
    ResearchQuestion,
    User,
)
from tests.conftest import make_settings

PASSWORD = "correct horse battery staple"
GAELIC = "Tha mi a' smaoineachadh… 👍 Sgìre"
WHEN = datetime(2027, 3, 2, 10, 30, tzinfo=UTC)
# Cheap argon2 parameters for the fixtures' accounts: verifying reads them from the hash.
PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


@dataclass
class World:
    services: Services
    projects: dict[str, int] = field(default_factory=dict)
    partnerships: dict[str, int] = field(default_factory=dict)
    phases: dict[str, int] = field(default_factory=dict)
    # (project slug, audience) -> reflection id
    reflections: dict[tuple[str, str], int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    gaelic: int = 0
    photo: int = 0


def marker(project: str, audience: str) -> str:
    return f"marker-{project}-{audience}"


async def build_world(services: Services, data_dir: Path) -> World:
    world = World(services)
    async with services.engine.begin() as connection:
        await connection.run_sync(fts.ensure_fulltext)
    async with services.sessions() as session, session.begin():
        people: dict[str, Person] = {}
        for key, code, name in [
            ("morag", "P-001", "Morag MacLeod"),
            ("dougie", "P-002", "Dougie Reid"),
            ("rhona", "R-001", "Rhona Researcher"),
            ("lachie", "L-001", "Lachie Lead"),
            ("deirdre", "L-002", "Deirdre Lead"),
        ]:
            people[key] = Person(key=key, study_code=code, name=name, email=f"{key}@example.org")
            session.add(people[key])
        for slug, name, participant, lead in [
            ("fife", "Fife", "morag", "lachie"),
            ("dundee", "Dundee", "dougie", "deirdre"),
        ]:
            partnership = Partnership(slug=slug, name=name)
            project = Project(
                partnership=partnership, slug=f"{slug}-hub", name=f"{name} family hub"
            )
            rq = ResearchQuestion(
                project=project, key="rq1", text=f"What helps families in {name}?"
            )
            cycle = Cycle(
                project=project,
                key="c1",
                name="Cycle 1",
                starts_on=date(2027, 1, 1),
                ends_on=date(2027, 6, 30),
            )
            phase = Phase(
                cycle=cycle,
                key="scoping",
                name="Scoping",
                starts_on=date(2027, 1, 1),
                ends_on=date(2027, 3, 31),
            )
            session.add_all([partnership, project, rq, cycle, phase])
            session.add(Membership(person=people[participant], project=project, role="participant"))
            session.add(Membership(person=people[lead], project=project, role="lead"))
            if slug == "fife":
                session.add(Membership(person=people["rhona"], project=project, role="researcher"))
            await session.flush()
            world.projects[slug] = project.id
            world.partnerships[slug] = partnership.id
            world.phases[slug] = phase.id
            for index, audience in enumerate(AUDIENCES):
                delivery = Delivery(
                    person=people[participant],
                    project=project,
                    slot=WHEN + timedelta(days=index),
                    due_at=WHEN,
                    cycle_id=cycle.id,
                    phase_id=phase.id,
                    research_question_id=rq.id,
                    prompt_key="scoping.what-matters",
                    prompt_kind="text",
                    prompt_text=f"What matters most this week in {name}?",
                    status="answered",
                )
                reflection = Reflection(
                    person=people[participant],
                    project=project,
                    delivery=delivery,
                    cycle_id=cycle.id,
                    phase_id=phase.id,
                    research_question_id=rq.id,
                    kind="text",
                    text=f"We talked about {marker(slug, audience)} at the hub.",
                    audience=audience,
                    channel="telegram",
                    created_at=WHEN + timedelta(days=index),
                )
                session.add_all([delivery, reflection])
                await session.flush()
                world.reflections[(slug, audience)] = reflection.id
            if slug == "fife":
                gaelic = Reflection(
                    person=people[participant],
                    project=project,
                    cycle_id=cycle.id,
                    phase_id=phase.id,
                    research_question_id=rq.id,
                    kind="evidence",
                    text=GAELIC,
                    audience="researchers",
                    channel="webchat",
                    created_at=WHEN + timedelta(days=9),
                )
                session.add(gaelic)
                await session.flush()
                folder = data_dir / "evidence"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "board.png").write_bytes(PNG)
                photo = Attachment(
                    reflection_id=gaelic.id,
                    kind="photo",
                    filename="board.png",
                    content_type="image/png",
                    size=len(PNG),
                    sha256="0" * 64,
                    path="evidence/board.png",
                )
                session.add(photo)
                await session.flush()
                world.gaelic, world.photo = gaelic.id, photo.id
        for email, person, admin in [
            ("researcher@example.org", "rhona", False),
            ("lead@example.org", "lachie", False),
            ("dundee-lead@example.org", "deirdre", False),
            ("admin@example.org", None, True),
        ]:
            user = User(
                email=email,
                person=people[person] if person else None,
                is_admin=admin,
                password_hash=PASSWORD_HASH,
            )
            session.add(user)
            await session.flush()
            world.users[email.split("@")[0]] = user.id
    return world


# A 1×1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
)


@pytest.fixture
async def world(services: Services) -> World:
    return await build_world(services, Path(services.settings.data_dir))


@pytest.fixture
def cli_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """The same world in a database that ``carbot`` commands find through the environment."""
    settings = make_settings(tmp_path)
    monkeypatch.setenv("CARBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CARBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CARBOT_SECRET_KEY", "test-secret-key-not-for-production")

    async def make() -> World:
        services = Services.from_settings(settings)
        async with services.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        world = await build_world(services, settings.data_dir)
        await services.close()
        return world

    return asyncio.run(make())
