"""Evaluations after an event: planned in the usual slots, summarised in the report's terms."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy import select

from bot.engine.planner import plan_once
from bot.evaluation.events import find_event
from bot.evaluation.summary import summarise, summary_lines, write_summary_csv
from bot.review.access import Viewer, cli_viewer
from bot.services import Services
from prompts.library import prompt_set
from prompts.schedule import is_working_time, working_pattern
from storage.db import transaction
from storage.models import Code, Coding, Delivery, Person, Reflection
from tests.engine.test_planner import deliveries, make_person, make_project
from tests.evaluation.helpers import add_event
from tests.support.schema import create_schema

LONDON = ZoneInfo("Europe/London")
RETREAT_ENDS = date(2027, 3, 19)  # a Friday
KEYS = [item.key for item in prompt_set("evaluation")]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_the_evaluation_is_asked_in_the_usual_slots_after_the_event_in_its_order(
    services: Services,
) -> None:
    project_id = await make_project(services)
    other_id = await make_project(services, slug="not-taking-part")
    await make_person(services, "amy", [project_id])
    await make_person(services, "bob", [other_id])
    await add_event(services, "spring-retreat", [project_id], date(2027, 3, 17), RETREAT_ENDS)

    now = utc(2027, 3, 15)
    while now < utc(2027, 4, 19):
        await plan_once(services, now)
        now += timedelta(hours=12)

    async with services.sessions() as session:
        amy = await session.scalar(select(Person).where(Person.key == "amy"))
        assert amy is not None
        pattern = working_pattern(amy, "Europe/London")
    mine = await deliveries(services, project_id=project_id)
    after = [d for d in mine if d.slot.astimezone(LONDON).date() > RETREAT_ENDS]
    assert [d.prompt_key for d in after[: len(KEYS)]] == KEYS
    assert "the spring retreat" in after[0].prompt_text
    assert after[0].prompt_options[0] == {"value": "1", "label": "1 – Very little"}
    assert not any(d.prompt_key in KEYS for d in mine if d not in after)
    assert all(is_working_time(d.slot, pattern) for d in after)
    weeks = {d.slot.isocalendar()[:2] for d in after}
    assert all(sum(d.slot.isocalendar()[:2] == w for d in mine) <= 3 for w in weeks)
    # once every item was asked, the usual rotation comes back
    assert after[len(KEYS)].prompt_key not in KEYS
    theirs = await deliveries(services, project_id=other_id)
    assert theirs and not any(d.prompt_key in KEYS for d in theirs)


async def _answer(
    services: Services, person_id: int, project_id: int, key: str, slot: datetime,
    *, value: int | None = None, text: str = "", audience: str = "team_anonymous",
) -> int:  # fmt: skip
    async with transaction(services.sessions) as session:
        delivery = Delivery(
            person_id=person_id, project_id=project_id, slot=slot, due_at=slot, prompt_key=key,
            prompt_kind="scale" if value is not None else "text", prompt_text=key,
            status="answered", sent_at=slot, answered_at=slot + timedelta(minutes=2),
        )  # fmt: skip
        session.add(delivery)
        await session.flush()
        reflection = Reflection(
            person_id=person_id, project_id=project_id, delivery_id=delivery.id,
            kind="scale" if value is not None else "text", scale_value=value, text=text,
            audience=audience, channel="webchat", created_at=slot + timedelta(minutes=2),
        )  # fmt: skip
        session.add(reflection)
        await session.flush()
        return reflection.id


SCORES = {  # person → learning, prepared, enjoyed; None: not answered
    "ann": (5, 4, 2),
    "ben": (4, 3, None),
    "cat": (3, 5, None),
    "dan": (4, 1, 5),
    "eve": (2, None, None),
}


async def _fixture(services: Services) -> dict[str, int]:
    project_id = await make_project(services)
    await add_event(services, "spring-retreat", [project_id], date(2027, 3, 17), RETREAT_ENDS)
    people = {key: await make_person(services, key, [project_id]) for key in SCORES}
    slot = utc(2027, 3, 23, 10, 30)
    for key, scores in SCORES.items():
        for offset, (item, value) in enumerate(zip(KEYS, scores, strict=False)):
            if value is not None:
                at = slot + timedelta(days=offset)
                await _answer(services, people[key], project_id, item, at, value=value)
    # a private answer is never counted, and nor is an answer to the same item out of the window
    await _answer(
        services,
        people["eve"],
        project_id,
        KEYS[1],
        slot + timedelta(hours=3),
        value=5,
        audience="private",
    )
    await _answer(services, people["eve"], project_id, KEYS[0], utc(2027, 6, 1, 10), value=1)
    ids = {}
    for n, (key, words) in enumerate(
        [("ann", "Research planning with the other areas"), ("ben", "Talking to other CPPs"),
         ("cat", "Feeling clearer about our inquiry"), ("dan", "Research planning time")]
    ):  # fmt: skip
        ids[key] = await _answer(
            services, people[key], project_id, "evaluation-valuable",
            slot + timedelta(days=6, minutes=n), text=words,
        )  # fmt: skip
    await _answer(services, people["ann"], project_id, "evaluation-change",
                  slot + timedelta(days=7), text="Bigger text on the slides")  # fmt: skip
    async with transaction(services.sessions) as session:
        code = Code(guid="c-planning", name="Research planning")
        session.add(code)
        await session.flush()
        for key in ("ann", "dan"):
            session.add(Coding(guid=f"g-{key}", code_id=code.id, reflection_id=ids[key]))
    return people


async def test_the_evaluation_figures_equal_a_hand_count(services: Services) -> None:
    await _fixture(services)
    async with services.sessions() as session:
        event = await find_event(session, "spring-retreat")
        assert event is not None
        summary = await summarise(session, event, cli_viewer())

    learning, prepared, enjoyed, accessibility, pace = summary.scales
    # learning: 5, 4, 3, 4, 2 → five answers, three of them 4 or 5
    assert learning.n == 5
    assert learning.counts == {1: 0, 2: 1, 3: 1, 4: 2, 5: 1}
    assert learning.positive == 3 and learning.share_positive == 3 / 5
    # prepared: 4, 3, 5, 1 (eve's private 5 is not counted) → two of four
    assert prepared.n == 4 and prepared.counts == {1: 1, 2: 0, 3: 1, 4: 1, 5: 1}
    assert prepared.share_positive == 0.5
    # enjoyed: only ann and dan answered → held back
    assert enjoyed.n == 2 and enjoyed.held_back
    assert accessibility.n == pace.n == 0
    valuable, change = summary.texts
    assert valuable.n == 4 and not valuable.held_back
    assert sorted(dict(valuable.themes)["Research planning"]) == [
        "Research planning time", "Research planning with the other areas",
    ]  # fmt: skip
    assert sorted(dict(valuable.themes)["Not yet coded"]) == [
        "Feeling clearer about our inquiry", "Talking to other CPPs",
    ]  # fmt: skip
    assert change.n == 1 and change.held_back
    assert summary.responded == 5

    text = "\n".join(summary_lines(summary))
    assert "60% scored 4 or 5 (3 of n=5); 1: 0, 2: 1, 3: 1, 4: 2, 5: 1" in text
    assert "50% scored 4 or 5 (2 of n=4)" in text
    assert "Bigger text" not in text and "held back: fewer than 3 answers" in text


async def test_the_evaluation_summary_names_nobody(services: Services, tmp_path: Path) -> None:
    people = await _fixture(services)
    async with services.sessions() as session:
        event = await find_event(session, "spring-retreat")
        assert event is not None
        summary = await summarise(session, event, cli_viewer())
        codes = list(await session.scalars(select(Person.study_code)))
    out = tmp_path / "evaluation.csv"
    write_summary_csv(summary, out)
    written = out.read_text(encoding="utf-8") + "\n".join(summary_lines(summary))
    for key in people:
        assert key not in written.lower().split()
    for code in codes:
        assert code not in written
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    learning = next(r for r in rows if r["item"] == "evaluation-learning")
    assert (learning["n"], learning["share_4_or_5"], learning["4"]) == ("5", "0.600", "2")
    enjoyed = next(r for r in rows if r["item"] == "evaluation-enjoyed")
    assert enjoyed["n"] == "fewer than 3" and enjoyed["1"] == ""


async def test_a_lead_counts_only_the_answers_their_team_may_see(services: Services) -> None:
    people = await _fixture(services)
    async with services.sessions() as session:
        event = await find_event(session, "spring-retreat")
        assert event is not None
        project_id = next(iter(event.project_ids))
    async with transaction(services.sessions) as session:
        reflections = await session.scalars(
            select(Reflection).where(Reflection.person_id == people["ann"])
        )
        for reflection in reflections:
            reflection.audience = "researchers"
    lead = Viewer(user_id=7, email="lead@example.org", lead_projects=frozenset({project_id}))
    stranger = Viewer(user_id=8, email="x@example.org", lead_projects=frozenset({999}))
    async with services.sessions() as session:
        as_lead = await summarise(session, event, lead)
        as_stranger = await summarise(session, event, stranger)
        as_cli = await summarise(session, event, cli_viewer())
    assert as_lead.scales[0].n == 4 and as_cli.scales[0].n == 5
    assert as_stranger.scales[0].n == 0


def test_carbot_report_evaluation_prints_the_figures_and_writes_csv(
    tmp_path: Path, monkeypatch: object
) -> None:
    import asyncio

    from bot.cli import main
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    services = Services.from_settings(settings)

    async def setup() -> None:

        await create_schema(services.engine)
        await _fixture(services)
        await services.close()

    asyncio.run(setup())
    env = {"CARBOT_DATABASE_URL": settings.database_url, "CARBOT_DATA_DIR": str(tmp_path)}
    out = tmp_path / "e.csv"
    result = CliRunner().invoke(
        main, ["report", "evaluation", "--event", "spring-retreat", "--csv", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "60% scored 4 or 5 (3 of n=5)" in result.output
    assert out.exists()
    missing = CliRunner().invoke(main, ["report", "evaluation", "--event", "nope"], env=env)
    assert missing.exit_code == 1 and "no event 'nope'" in missing.output


async def _lead_and_outsider(services: Services) -> None:
    """Accounts for lead@example.org, a lead of the event's project, and other@example.org."""
    from storage.models import Membership, User
    from tests.review.conftest import PASSWORD_HASH

    async with transaction(services.sessions) as session:
        event = await find_event(session, "spring-retreat")
        assert event is not None
        lead = Person(key="lee", study_code="L-1", name="Lee Lead")
        session.add(lead)
        await session.flush()
        session.add(Membership(person_id=lead.id, project_id=next(iter(event.project_ids)),
                               role="lead"))  # fmt: skip
        session.add_all(
            [
                User(email="lead@example.org", person_id=lead.id, password_hash=PASSWORD_HASH),
                User(email="other@example.org", password_hash=PASSWORD_HASH),
            ]
        )


async def test_the_evaluation_page_shows_the_figures_to_a_lead_of_a_taking_part_project(
    services: Services,
) -> None:
    from tests.review.helpers import client, sign_in

    people = await _fixture(services)
    await _lead_and_outsider(services)
    async with client(services) as http:
        await sign_in(http, "lead@example.org")
        listing = await http.get("/review/reports/evaluation")
        page = await http.get("/review/reports/evaluation?event=spring-retreat")
        missing = await http.get("/review/reports/evaluation?event=no-such-event")
    assert 'href="/review/reports/evaluation?event=spring-retreat"' in listing.text
    assert page.status_code == 200
    assert "60% (3 of 5)" in page.text and "50% (2 of 4)" in page.text
    assert "Held back: fewer than 3 answers" in page.text
    assert "Research planning time" in page.text and "Bigger text" not in page.text
    for key in people:
        assert f">{key}<" not in page.text and key.upper() not in page.text
    assert missing.status_code == 404
    async with client(services) as http:
        await sign_in(http, "other@example.org")
        outside = await http.get("/review/reports/evaluation?event=spring-retreat")
    assert outside.status_code == 404


async def test_each_evaluation_summary_shown_leaves_one_audit_line_and_a_refused_one_none(
    services: Services,
) -> None:
    from tests.review.helpers import audit_entries, client, sign_in

    await _fixture(services)
    await _lead_and_outsider(services)
    async with client(services) as http:
        await sign_in(http, "other@example.org")
        outside = await http.get("/review/reports/evaluation?event=spring-retreat")
    assert outside.status_code == 404
    assert await audit_entries(services, "evaluation_report") == []
    async with client(services) as http:
        await sign_in(http, "lead@example.org")
        await http.get("/review/reports/evaluation")  # the list of events shows no comments
        page = await http.get("/review/reports/evaluation?event=spring-retreat")
    assert "Research planning time" in page.text
    (entry,) = await audit_entries(services, "evaluation_report")
    actor, target = entry
    assert actor.startswith("user:") and target == "event:spring-retreat"


def test_carbot_report_evaluation_leaves_one_audit_line_and_none_for_an_unknown_event(
    tmp_path: Path,
) -> None:
    import asyncio

    from bot.cli import main
    from tests.conftest import make_settings
    from tests.review.helpers import audit_entries_of

    settings = make_settings(tmp_path)

    async def setup() -> None:
        services = Services.from_settings(settings)
        await create_schema(services.engine)
        await _fixture(services)
        await services.close()

    asyncio.run(setup())
    env = {"CARBOT_DATABASE_URL": settings.database_url, "CARBOT_DATA_DIR": str(tmp_path)}
    missing = CliRunner().invoke(main, ["report", "evaluation", "--event", "nope"], env=env)
    assert missing.exit_code == 1
    assert audit_entries_of(settings, "evaluation_report") == []
    shown = CliRunner().invoke(main, ["report", "evaluation", "--event", "spring-retreat"], env=env)
    assert shown.exit_code == 0, shown.output
    assert audit_entries_of(settings, "evaluation_report") == [("cli", "event:spring-retreat")]
