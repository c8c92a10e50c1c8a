"""The shared lookups in storage.queries."""

from __future__ import annotations

from bot.services import Services
from storage.db import transaction
from storage.models import ChannelIdentity, Person, Study
from storage.queries import channel_identity, study_options, the_study


async def test_a_revoked_handle_is_found_only_when_asked_for_it(services: Services) -> None:
    async with transaction(services.sessions) as session:
        person = Person(key="ana", study_code="P0001", name="Ana")
        session.add(person)
        await session.flush()
        session.add_all(
            [
                ChannelIdentity(person_id=person.id, channel="slack", workspace="T1",
                                external_id="U1", status="active"),
                ChannelIdentity(person_id=person.id, channel="webchat", workspace="",
                                external_id="k1", status="revoked"),
            ]
        )  # fmt: skip
    async with services.sessions() as session:
        slack = await channel_identity(session, "slack", "U1", "T1")
        other_workspace = await channel_identity(session, "slack", "U1", "T2")
        revoked = await channel_identity(session, "webchat", "k1")
        revoked_too = await channel_identity(session, "webchat", "k1", revoked_too=True)
    assert slack is not None and slack.person_id == person.id
    assert other_workspace is None and revoked is None
    assert revoked_too is not None and revoked_too.status == "revoked"


async def test_the_study_and_its_options_are_the_first_loaded(services: Services) -> None:
    async with services.sessions() as session:
        assert await the_study(session) is None and await study_options(session) == {}
    async with transaction(services.sessions) as session:
        session.add(Study(slug="wws", name="WWS", options={"timezone": "Europe/London"}))
        session.add(Study(slug="later", name="Later", options={"timezone": "UTC"}))
    async with services.sessions() as session:
        study = await the_study(session)
        options = await study_options(session)
    assert study is not None and study.slug == "wws"
    assert options == {"timezone": "Europe/London"}
