"""The conversation tells a person's times in the very zone the engine plans their prompts in."""

from __future__ import annotations

import pytest

from bot.core.people import person_zone
from bot.engine.availability import zone_for
from bot.services import Services
from storage.db import transaction
from tests.support.world import add_person, add_project

SETTINGS_ZONE = "Europe/London"


@pytest.mark.parametrize(
    ("own", "partnership", "told"),
    [
        (None, "Pacific/Auckland", "Pacific/Auckland"),  # nothing of their own: the partnership's
        ("America/Halifax", "Pacific/Auckland", "America/Halifax"),  # their own comes first
        (None, "Europe/London", "Europe/London"),
    ],
)
async def test_the_zone_a_person_is_told_times_in_is_the_zone_their_prompts_are_planned_in(
    services: Services, own: str | None, partnership: str, told: str
) -> None:
    async with transaction(services.sessions) as session:
        world = await add_project(
            session, "fife-carers", "Carers", partnership=("fife", "Fife"), timezone=partnership
        )
        person = await add_person(
            session, "ana", "P01", "Ana", projects=[world.project], timezone=own
        )
        await session.refresh(world.project, ["partnership"])
        planned = zone_for(person, world.project, SETTINGS_ZONE)
        shown = await person_zone(session, person, SETTINGS_ZONE)

    assert planned == told
    assert shown.key == told


async def test_someone_in_no_project_yet_is_told_times_in_their_own_zone_or_the_default(
    services: Services,
) -> None:
    async with transaction(services.sessions) as session:
        newcomer = await add_person(session, "bo", "P02", "Bo")
        traveller = await add_person(session, "cy", "P03", "Cy", timezone="Asia/Tokyo")

        assert (await person_zone(session, newcomer, SETTINGS_ZONE)).key == SETTINGS_ZONE
        assert (await person_zone(session, traveller, SETTINGS_ZONE)).key == "Asia/Tokyo"
