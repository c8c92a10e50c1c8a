"""What a lead reads in a weekly digest: engagement in aggregate, grouped reflections, ratings,
choices, evidence, the cycle, plans — and what the small-n rule holds back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from digests.data import WeeklyDigest, build_weekly
from digests.render import make_message, weekly_context
from digests.schedule import Week, schedule_for
from storage.db import transaction
from tests.digests.factory import (
    MONDAY,
    WEEK,
    Team,
    add_delivery,
    add_reflection,
    add_team,
    at,
)
from tests.digests.helpers import bodies

LONDON = ZoneInfo("Europe/London")
SCALE = [{"value": "1", "label": "Not at all"}, {"value": "5", "label": "Very well"}]


async def _digest(services: Any, team: Team, week: str = WEEK) -> WeeklyDigest:
    async with services.sessions() as session:
        return await build_weekly(
            session,
            team.project,
            Week.parse(week),
            LONDON,
            public_url="https://carbot.example",
            schedule=schedule_for({}),
        )


def _texts(digest: WeeklyDigest) -> list[str]:
    message = make_message("weekly", "lead@example.org", weekly_context(digest))
    return bodies(message)


async def test_engagement_is_counted_in_aggregate_and_never_names_who_did_not_answer(
    services: Any,
) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=4)
        a, b, c, d = team.members
        tue = at(MONDAY + timedelta(days=1), 10)
        for person in (a, b):
            delivery = await add_delivery(session, team, person, tue)
            await add_reflection(
                session, team, person, f"{person.name} answered", delivery=delivery
            )
        await add_delivery(session, team, c, tue, status="expired")
        await add_delivery(session, team, d, tue, status="reminded")
        await add_delivery(session, team, d, tue + timedelta(days=1), status="skipped")
        # the week before: 1 of 2 answered
        await add_delivery(session, team, a, tue - timedelta(days=7))
        await add_delivery(session, team, b, tue - timedelta(days=7), status="expired")

    digest = await _digest(services, team)

    engagement = digest.engagement
    assert (engagement.people_prompted, engagement.people_answered, engagement.answers) == (4, 2, 2)
    assert engagement.rate == 0.5  # skipped prompts are left out
    assert engagement.previous_rate == 0.5
    assert [w.label for w in engagement.history][-2:] == ["2027-W09", "2027-W10"]
    for text in _texts(digest):
        assert "50%" in text
        assert c.name not in text and d.name not in text


async def test_reflections_are_grouped_by_research_question_then_phase(services: Any) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=1)
        member = team.members[0]
        await add_reflection(session, team, member, "About sharing, exploring", question=1, phase=1)
        await add_reflection(
            session, team, member, "About finding us, scoping", question=0, phase=0
        )
        await add_reflection(session, team, member, "About finding us, exploring", question=0)
        await add_reflection(session, team, member, "Loose note", kind="note", question=None)

    digest = await _digest(services, team)

    layout = [
        (s.title, [(g.name, [i.text for i in g.items]) for g in s.groups]) for s in digest.sections
    ]
    assert layout == [
        (
            "How do families find us?",
            [
                ("Scoping", ["About finding us, scoping"]),
                ("Exploring evidence", ["About finding us, exploring"]),
            ],
        ),
        ("What helps staff share?", [("Exploring evidence", ["About sharing, exploring"])]),
        ("Not tied to a research question", [("Exploring evidence", ["Loose note"])]),
    ]


async def test_anonymous_reflections_from_fewer_than_three_people_are_held_back(
    services: Any,
) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=3)
        a, b, c = team.members
        await add_reflection(session, team, a, "anon one", audience="team_anonymous")
        await add_reflection(session, team, a, "anon two", audience="team_anonymous")
        await add_reflection(session, team, b, "anon three", audience="team_anonymous")
        await add_reflection(session, team, c, "named", audience="team")

    digest = await _digest(services, team)

    assert digest.held_back == 3
    for text in _texts(digest):
        assert "anon one" not in text and "anon three" not in text
        assert "named" in text
        assert "3 anonymous reflections held back to protect anonymity" in text
        assert "They will appear once 3 people have, within 4 weeks." in text


async def test_a_team_of_two_is_told_what_is_held_back_without_a_promise_it_can_never_keep(
    services: Any,
) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=2)
        a, b = team.members
        await add_reflection(session, team, a, "anon one", audience="team_anonymous")
        await add_reflection(session, team, b, "named by b", audience="team")

    digest = await _digest(services, team)

    assert digest.participants == 2 and digest.too_small_for_anonymity
    for text in _texts(digest):
        assert "anon one" not in text and "named by b" in text
        assert "1 anonymous reflection held back to protect anonymity" in text
        assert "with 2 participants in this project" in text
        assert "cannot hide who wrote them" in text
        assert "will appear" not in text and "once 3 people" not in text


async def test_anonymous_reflections_from_three_people_appear_without_names_or_dates(
    services: Any,
) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=3)
        for index, member in enumerate(team.members):
            await add_reflection(session, team, member, f"anon {index}", audience="team_anonymous")

    digest = await _digest(services, team)

    items = digest.sections[0].groups[0].items
    assert sorted(i.text for i in items) == ["anon 0", "anon 1", "anon 2"]
    assert all(i.author is None and i.when is None for i in items)
    plain, html = _texts(digest)
    assert "Anonymous" in plain and "Tue 9 Mar" not in plain
    assert all(m.name not in plain + html for m in team.members)


async def test_ratings_show_distribution_median_and_trend_only_from_three_people(
    services: Any,
) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=4)
        tue = at(MONDAY + timedelta(days=1))
        for person, value in zip(team.members, (4, 5, 4, 2), strict=True):
            for when, rating in ((tue, value), (tue - timedelta(days=7), 2)):
                delivery = await add_delivery(
                    session,
                    team,
                    person,
                    when,
                    prompt_key="how-well",
                    prompt_text="How well did the week go?",
                    prompt_kind="scale",
                    options=SCALE,
                )
                await add_reflection(
                    session,
                    team,
                    person,
                    kind="scale",
                    scale_value=rating,
                    delivery=delivery,
                    when=when,
                )
        # a choice answered by only two people is held back
        for person in team.members[:2]:
            delivery = await add_delivery(
                session,
                team,
                person,
                tue + timedelta(hours=2),
                prompt_key="channel",
                prompt_text="Where did families hear of us?",
                prompt_kind="choice",
                options=[{"value": "school", "label": "At school"}],
            )
            await add_reflection(
                session, team, person, kind="choice", choice="school", delivery=delivery
            )

    digest = await _digest(services, team)

    (rating,) = digest.ratings
    assert rating.n == 4 and rating.median == 4.0 and rating.previous_median == 2.0
    assert rating.trend == "up"
    assert [(v, count) for v, _, count in rating.distribution] == [
        (1, 0),
        (2, 1),
        (3, 0),
        (4, 2),
        (5, 1),
    ]
    assert digest.choices == [] and digest.aggregates_held_back == 2
    plain, html = _texts(digest)
    for text in (plain, html):
        assert "Median" in text and "up from 2" in text and "Very well" in text
        assert "At school" not in text


async def test_choices_are_counted_by_label(services: Any) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=3)
        options = [{"value": "school", "label": "At school"}, {"value": "gp", "label": "From a GP"}]
        for person, pick in zip(team.members, ("school", "gp", "school"), strict=True):
            delivery = await add_delivery(
                session,
                team,
                person,
                at(MONDAY),
                prompt_text="Where did families hear of us?",
                prompt_kind="choice",
                options=options,
            )
            await add_reflection(
                session, team, person, kind="choice", choice=pick, delivery=delivery
            )

    digest = await _digest(services, team)

    assert [(c.prompt, c.counts) for c in digest.choices] == [
        ("Where did families hear of us?", [("At school", 2), ("From a GP", 1)])
    ]


async def test_evidence_links_into_the_review_app_and_plans_are_carried_forward(
    services: Any,
) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=1)
        member = team.members[0]
        photo = await add_reflection(
            session, team, member, "Queue at 9am", kind="evidence", photo="queue.jpg"
        )
        delivery = await add_delivery(
            session, team, member, at(MONDAY), prompt_key="rolfe-now-what", prompt_text="Now what?"
        )
        await add_reflection(session, team, member, "Open the hall at 8.30", delivery=delivery)

    digest = await _digest(services, team)

    (evidence,) = digest.evidence
    assert evidence.url == f"https://carbot.example/review/reflections/{photo.id}"
    assert evidence.alt == "Photo: Queue at 9am"
    assert [p.text for p in digest.plans] == ["Open the hall at 8.30"]
    assert digest.sections == []  # a plan is shown once, under its own heading
    plain, html = _texts(digest)
    assert "WHAT THE TEAM SAID IT WOULD TRY" in plain and "What the team said it would try" in html
    assert f'href="https://carbot.example/review/reflections/{photo.id}"' in html
    assert "Content-Disposition: attachment" not in plain


async def test_the_timeline_says_the_phase_the_days_left_and_what_comes_next(
    services: Any,
) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=1)

    digest = await _digest(services, team)

    timeline = digest.timeline
    assert timeline is not None
    assert (timeline.cycle, timeline.phase, timeline.days_left) == (
        "Cycle 1",
        "Exploring evidence",
        7,  # Monday 15 to Sunday 21 March
    )
    assert timeline.next_phase == "Testing change"
    assert [s.state for s in timeline.steps] == ["past", "current", "future"]


async def test_an_empty_week_renders_a_short_note(services: Any) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=2)

    digest = await _digest(services, team)

    assert digest.is_empty
    message = make_message("weekly", "lead@example.org", weekly_context(digest))
    assert message["Subject"] == "Family hub approach: a quiet week (8–14 March 2027)"
    for text in bodies(message):
        assert "A quiet week" in text and "Engagement" not in text


async def test_replies_to_what_we_heard_show_as_corrections_and_a_count_of_confirmations(
    services: Any,
) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=3)
        a, b, c = team.members
        await add_reflection(session, team, a, "That's right", kind="feedback", question=None)
        await add_reflection(session, team, b, "That's right", kind="feedback", question=None)
        await add_reflection(
            session, team, c, "You missed the bus strike", kind="feedback", question=None
        )

    digest = await _digest(services, team)

    assert digest.confirmations == 2
    assert [i.text for i in digest.feedback] == ["You missed the bus strike"]
    assert digest.sections == []
    plain, html = _texts(digest)
    assert "CHECKING WHAT WE HEARD" in plain and '2 said "That\'s right"' in plain
    assert "You missed the bus strike" in html and "Checking what we heard" in html


async def test_held_back_anonymous_reflections_appear_in_a_later_week_once_three_people_wrote(
    services: Any,
) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=3)
        a, b, c = team.members
        week_before = at(MONDAY - timedelta(days=5))
        await add_reflection(
            session, team, a, "anon from a", audience="team_anonymous", when=week_before
        )
        await add_reflection(
            session, team, b, "anon from b", audience="team_anonymous", when=week_before
        )
        await add_reflection(session, team, c, "anon from c", audience="team_anonymous")

    before = await _digest(services, team, "2027-W09")
    this = await _digest(services, team, WEEK)
    after = await _digest(services, team, "2027-W11")

    assert before.held_back == 2 and before.sections == []
    items = {i.text: i.earlier for s in this.sections for g in s.groups for i in g.items}
    assert items == {"anon from a": True, "anon from b": True, "anon from c": False}
    assert this.held_back == 0
    plain, _ = _texts(this)
    assert plain.count("Anonymous, from an earlier week") == 2
    assert after.is_empty  # shown once, not again


async def test_held_back_anonymous_reflections_expire_after_four_weeks(services: Any) -> None:
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=3)
        a, b, c = team.members
        old = at(MONDAY - timedelta(weeks=4))
        await add_reflection(session, team, a, "old a", audience="team_anonymous", when=old)
        await add_reflection(session, team, b, "old b", audience="team_anonymous", when=old)
        await add_reflection(session, team, c, "new c", audience="team_anonymous")

    digest = await _digest(services, team)

    assert digest.sections == [] and digest.held_back == 1


async def test_a_digest_names_its_own_week_and_never_calls_it_this_week(services: Any) -> None:
    """Leads read Monday's digest days later; "this week" would then mean the wrong week."""
    async with transaction(services.sessions) as session:
        team = await add_team(session, members=3)
        await add_delivery(session, team, team.members[0], at(MONDAY + timedelta(days=1), 10))

    digest = await _digest(services, team)

    texts = _texts(digest)
    assert any("(this digest)" in text for text in texts)  # the chart marks its own week
    for text in texts:
        assert "this week" not in text
        assert f"No reflections were shared with the team in {digest.week.span_text()}" in text
