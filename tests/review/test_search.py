from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.review.access import cli_viewer
from bot.review.coding import add_code, apply_code
from bot.review.search import Filters, search
from bot.services import Services
from storage import fts
from storage.db import upgrade
from storage.models import Person, Reflection
from tests.conftest import make_settings
from tests.review.conftest import WHEN, World, build_world
from tests.support.world import add_person, add_project, add_reflection


async def _ids(services: Services, filters: Filters, page: int = 1) -> set[int]:
    async with services.sessions() as session:
        return {r.id for r in (await search(session, cli_viewer(), filters, page)).reflections}


async def test_full_text_search_finds_words_on_both_databases(any_services: Services) -> None:
    world = await build_world(any_services, Path(any_services.settings.data_dir))
    assert await _ids(any_services, Filters(q="smaoineachadh")) == {world.gaelic}
    everyone = await _ids(any_services, Filters(q="talked hub"))
    assert everyone == {
        i for (_, audience), i in world.reflections.items() if audience != "private"
    }
    assert await _ids(any_services, Filters(q="nothing-like-this")) == set()
    # operators and quotes typed by a person are words, not syntax errors
    assert await _ids(any_services, Filters(q='"hub" (talked*')) == everyone


async def test_search_on_sqlite_folds_accents(world: World) -> None:
    assert await _ids(world.services, Filters(q="sgire")) == {world.gaelic}


async def test_a_migrated_database_keeps_search_in_step_with_edits(
    any_db_url: str, tmp_path: Path
) -> None:
    await asyncio.to_thread(upgrade, any_db_url)
    services = Services.from_settings(make_settings(tmp_path, any_db_url))
    try:
        async with services.sessions() as session, session.begin():
            made = await add_project(session, "hub", "Hub", partnership=("fife", "Fife"))
            person = await add_person(session, "a", "P-1", "A")
            reflection = await add_reflection(
                session,
                person.id,
                made.project.id,
                "the rota was chaos",
                created_at=WHEN,
                audience="researchers",
            )
        assert await _ids(services, Filters(q="chaos")) == {reflection.id}
        async with services.sessions() as session, session.begin():
            stored = await session.get(Reflection, reflection.id)
            assert stored is not None
            stored.text = "the rota was calm"
        assert await _ids(services, Filters(q="chaos")) == set()
        assert await _ids(services, Filters(q="calm")) == {reflection.id}
    finally:
        await services.close()


async def test_each_filter_narrows_the_reflections(world: World) -> None:
    services = world.services
    fife = {
        i
        for (project, audience), i in world.reflections.items()
        if project == "fife" and audience != "private"
    } | {world.gaelic}
    assert await _ids(services, Filters(partnership=world.partnerships["fife"])) == fife
    assert await _ids(services, Filters(project=world.projects["fife"])) == fife
    assert await _ids(services, Filters(answer_type="evidence")) == {world.gaelic}
    assert await _ids(services, Filters(has_evidence=True)) == {world.gaelic}
    assert world.gaelic not in await _ids(services, Filters(has_evidence=False))
    on_day = await _ids(services, Filters(date_from=date(2027, 3, 3), date_to=date(2027, 3, 3)))
    assert on_day == {
        world.reflections[("fife", "researchers")],
        world.reflections[("dundee", "researchers")],
    }
    prompted = await _ids(services, Filters(prompt="scoping.what-matters"))
    assert world.gaelic not in prompted and len(prompted) == 6
    assert len(await _ids(services, Filters(phase="scoping"))) == 7
    assert await _ids(services, Filters(phase="testing-change")) == set()


async def test_the_cycle_and_research_question_filters_keep_to_their_project(
    world: World,
) -> None:
    async with world.services.sessions() as session:
        dundee = await session.get(Reflection, world.reflections[("dundee", "team")])
        assert dundee is not None
        cycle, question = dundee.cycle_id, dundee.research_question_id
    wanted = {
        i
        for (project, audience), i in world.reflections.items()
        if project == "dundee" and audience != "private"
    }
    assert await _ids(world.services, Filters(cycle=cycle)) == wanted
    assert await _ids(world.services, Filters(research_question=question)) == wanted
    narrowed = Filters(research_question=question, answer_type="evidence")
    assert await _ids(world.services, narrowed) == set()


async def test_filtering_by_a_code_includes_the_codes_beneath_it(world: World) -> None:
    viewer = cli_viewer()
    async with world.services.sessions() as session, session.begin():
        feelings = await add_code(session, viewer, "Feelings")
        hopeful = await add_code(session, viewer, "Hopeful", parent_id=feelings.id)
        reflection = await session.get(Reflection, world.reflections[("fife", "team")])
        assert reflection is not None
        await apply_code(session, viewer, reflection, hopeful.id, 0, 2)
    assert await _ids(world.services, Filters(code=feelings.id)) == {reflection.id}
    assert await _ids(world.services, Filters(code=hopeful.id)) == {reflection.id}


async def test_filters_read_from_a_query_string_ignore_nonsense() -> None:
    filters = Filters.from_params(
        {
            "project": "3",
            "cycle": "x",
            "date_from": "2027-02-30",
            "answer_type": "poem",
            "has_evidence": "yes",
            "q": " hub ",
        }
    )
    assert filters == Filters(project=3, has_evidence=True, q="hub")
    assert filters.as_params() == {"project": "3", "has_evidence": "yes", "q": "hub"}


async def test_results_come_a_page_at_a_time_newest_first(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        person = await add_person(session, "a", "P-1", "A")
        made = await add_project(session, "h", "H", partnership=("f", "F"))
        for n in range(30):
            await add_reflection(
                session,
                person.id,
                made.project.id,
                f"note {n}",
                created_at=WHEN.replace(minute=n),
                audience="researchers",
            )
    async with services.sessions() as session:
        first = await search(session, cli_viewer(), Filters(), 1)
        second = await search(session, cli_viewer(), Filters(), 2)
    assert (first.total, first.pages, len(first.reflections), len(second.reflections)) == (
        30,
        2,
        25,
        5,
    )
    assert first.reflections[0].text == "note 29"
    assert second.reflections[-1].text == "note 0"


async def test_a_database_made_without_migrations_gets_its_search_index_on_first_search(
    services: Services,
) -> None:
    async with services.sessions() as session, session.begin():
        session.add(
            Reflection(
                person=Person(key="a", study_code="P-1", name="A"),
                kind="text",
                text="Fifty% of the rota_list",
                audience="researchers",
                channel="webchat",
                created_at=WHEN,
            )
        )
    async with services.sessions() as session:
        await session.execute(select(Person.id))  # a page has read something first
        first = await search(session, cli_viewer(), Filters(q="rota_list fifty"))
    async with services.engine.connect() as connection:
        assert await connection.run_sync(fts.has_fulltext)
    second = await _ids(services, Filters(q="fifty rota"))
    assert len(first.reflections) == 1 and len(second) == 1
    assert await _ids(services, Filters(q="list_rota")) == set()
