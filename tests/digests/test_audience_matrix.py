"""Every audience against every digest kind: who may read a reflection, and under what name."""

from __future__ import annotations

from typing import Any

import pytest

from digests.audience import DIGEST_KINDS
from storage.db import transaction
from storage.models import AUDIENCES, Membership
from tests.digests.factory import add_person, add_reflection, add_study, add_team
from tests.digests.helpers import run_every_kind

VISIBLE = {
    ("lead_weekly", "team"),
    ("lead_weekly", "team_anonymous"),
    ("what_we_heard", "team"),
    ("what_we_heard", "team_anonymous"),
    ("cross_partnership", "team"),
    ("cross_partnership", "team_anonymous"),
    ("cross_partnership", "researchers"),
}


async def _three_people_write(services: Any, audience: str) -> tuple[list[str], list[str]]:
    """Three members each write one reflection with ``audience``, in two partnerships so that
    the cross-partnership digest has a shared theme; the members' names and study codes."""
    async with transaction(services.sessions) as session:
        await add_study(session)
        team = await add_team(session, members=3)
        other = await add_team(
            session,
            slug="leven-paths",
            name="Leven paths",
            members=1,
            lead_email="l2@example.org",
            partnership_name="Levenmouth",
        )
        researcher = await add_person(session, "Dr Rae Searcher", email="rae@uni.example")
        session.add(
            Membership(person_id=researcher.id, project_id=team.project.id, role="researcher")
        )
        for index, member in enumerate(team.members):
            await add_reflection(
                session,
                team,
                member,
                f"marker-{audience}-{index}: the community transport timetable keeps changing",
                audience=audience,
            )
        await add_reflection(
            session,
            other,
            other.members[0],
            "Another partnership: community transport again",
            audience="team",
        )
    return [m.name for m in team.members], [m.study_code for m in team.members]


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("kind", DIGEST_KINDS)
async def test_a_reflection_reaches_exactly_the_digests_its_audience_allows(
    services: Any, kind: str, audience: str
) -> None:
    names, codes = await _three_people_write(services, audience)

    texts = (await run_every_kind(services))[kind]

    assert texts, f"the {kind} digest was not sent at all"
    joined = "\n".join(texts)
    markers = [f"marker-{audience}-{i}" for i in range(3)]
    if (kind, audience) in VISIBLE and kind == "cross_partnership":
        # counted, and quoted (at most two quotes per partnership)
        assert "4 reflections open to researchers" in joined
        assert sum(marker in joined for marker in markers) == 2
    elif (kind, audience) in VISIBLE:
        for marker in markers:
            assert marker in joined
    else:
        for marker in markers:
            assert marker not in joined
    for name in names:
        if kind == "lead_weekly" and audience == "team":
            assert name in joined
        else:
            assert name not in joined
    if kind == "cross_partnership" and (kind, audience) in VISIBLE:
        assert any(code in joined for code in codes)
    if kind != "cross_partnership":
        assert not any(code in joined for code in codes)
