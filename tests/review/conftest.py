"""A small study for the review workspace, built from storage.models rows.

Two partnerships (Fife, Dundee), one project each, one participant each, one reflection per
audience per project, and four accounts: a researcher and a lead on the Fife project, a lead on
the Dundee project, and an admin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from argon2 import PasswordHasher

from bot.services import Services
from bot.settings import Settings
from storage import fts
from storage.models import AUDIENCES, Person
from tests.conftest import POSTGRES_URL, fresh_postgres_database, make_settings
from tests.support.environment import without_carbot_environment
from tests.support.schema import create_schema
from tests.support.world import (
    SCOPING,
    add_attachment,
    add_delivery,
    add_member,
    add_person,
    add_project,
    add_reflection,
    add_user,
    built_for_the_cli,
    phases,
)

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
            people[key] = await add_person(session, key, code, name, email=f"{key}@example.org")
        for slug, name, participant, lead in [
            ("fife", "Fife", "morag", "lachie"),
            ("dundee", "Dundee", "dougie", "deirdre"),
        ]:
            made = await add_project(
                session,
                f"{slug}-hub",
                f"{name} family hub",
                partnership=(slug, name),
                questions=[("rq1", f"What helps families in {name}?")],
                cycle=("c1", "Cycle 1", date(2027, 1, 1), date(2027, 6, 30)),
                phases=phases((SCOPING, date(2027, 1, 1), date(2027, 3, 31))),
            )
            project, cycle, phase, rq = made.project, made.cycle, made.phases[0], made.questions[0]
            await add_member(session, people[participant], project, "participant")
            await add_member(session, people[lead], project, "lead")
            if slug == "fife":
                await add_member(session, people["rhona"], project, "researcher")
            world.projects[slug] = project.id
            world.partnerships[slug] = made.partnership.id
            world.phases[slug] = phase.id
            where = {"cycle_id": cycle.id, "phase_id": phase.id, "research_question_id": rq.id}
            for index, audience in enumerate(AUDIENCES):
                delivery = await add_delivery(
                    session,
                    people[participant].id,
                    project.id,
                    WHEN,
                    slot=WHEN + timedelta(days=index),
                    prompt_key="scoping.what-matters",
                    prompt_text=f"What matters most this week in {name}?",
                    status="answered",
                    **where,
                )
                reflection = await add_reflection(
                    session,
                    people[participant].id,
                    project.id,
                    f"We talked about {marker(slug, audience)} at the hub.",
                    created_at=WHEN + timedelta(days=index),
                    audience=audience,
                    channel="telegram",
                    delivery_id=delivery.id,
                    **where,
                )
                world.reflections[(slug, audience)] = reflection.id
            if slug == "fife":
                gaelic = await add_reflection(
                    session,
                    people[participant].id,
                    project.id,
                    GAELIC,
                    created_at=WHEN + timedelta(days=9),
                    audience="researchers",
                    kind="evidence",
                    **where,
                )
                folder = data_dir / "evidence"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "board.png").write_bytes(PNG)
                photo = await add_attachment(
                    session, gaelic, "board.png", content_type="image/png", size=len(PNG)
                )
                world.gaelic, world.photo = gaelic.id, photo.id
        for email, person, admin in [
            ("researcher@example.org", "rhona", False),
            ("lead@example.org", "lachie", False),
            ("dundee-lead@example.org", "deirdre", False),
            ("admin@example.org", None, True),
        ]:
            user = await add_user(
                session,
                email,
                PASSWORD_HASH,
                person=people[person] if person else None,
                is_admin=admin,
            )
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

    async def build(services: Services) -> World:
        return await build_world(services, Path(services.settings.data_dir))

    return built_for_the_cli(tmp_path, monkeypatch, build)


DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@asynccontextmanager
async def shared_database(request: pytest.FixtureRequest, folder: Path) -> AsyncIterator[Settings]:
    """Settings on a database with carbot's schema — SQLite, or PostgreSQL for the
    ``"postgres"`` param — for one module's tests to share; a PostgreSQL one is dropped after."""
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need CARBOT_TEST_POSTGRES_URL (set by .ci/run)")
    async with AsyncExitStack() as stack:
        url = None
        if request.param == "postgres":
            url = await stack.enter_async_context(fresh_postgres_database(with_schema=True))
        with without_carbot_environment():
            settings = make_settings(folder, url)
        if url is None:
            services = Services.from_settings(settings)
            try:
                await create_schema(services.engine)
            finally:
                await services.close()
        yield settings


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def module_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """The world built once per module on SQLite and (when configured) PostgreSQL, for tests
    that only read it: its ``services`` are closed; use ``read_only_world``."""
    async with shared_database(request, tmp_path_factory.mktemp("world")) as settings:
        services = Services.from_settings(settings)
        try:
            world = await build_world(services, Path(settings.data_dir))
        finally:
            await services.close()
        yield world


@pytest.fixture
async def read_only_world(module_world: World) -> AsyncIterator[World]:
    """The module's world on services of this test's own (its event loop's connections)."""
    services = Services.from_settings(module_world.services.settings)
    yield dataclasses.replace(module_world, services=services)
    await services.close()
