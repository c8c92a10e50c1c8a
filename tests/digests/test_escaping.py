"""HTML and script inside reflections (and names, prompts, file names) arrive as text."""

from __future__ import annotations

from typing import Any

import lxml.html

from storage.db import transaction
from storage.models import Membership
from tests.digests.factory import (
    MONDAY,
    add_delivery,
    add_person,
    add_reflection,
    add_study,
    add_team,
    at,
)
from tests.digests.helpers import run_every_kind

NASTY = '<script>alert("x")</script><img src=x onerror=alert(1)><b>bold</b> & "quotes"'


async def test_markup_in_reflections_is_escaped_in_every_digest(services: Any) -> None:
    async with transaction(services.sessions) as session:
        await add_study(session)
        team = await add_team(session, name=f"Hub {NASTY}", members=3)
        other = await add_team(
            session,
            slug="other",
            name="Other",
            lead_email="o@example.org",
            partnership_name="Angus",
        )
        researcher = await add_person(session, "R", email="r@uni.example")
        session.add(
            Membership(person_id=researcher.id, project_id=team.project.id, role="researcher")
        )
        team.questions[0].text = f"Question {NASTY}"
        for index, member in enumerate(team.members):
            delivery = await add_delivery(
                session, team, member, at(MONDAY, 9 + index), prompt_text=f"Prompt {NASTY}"
            )
            await add_reflection(
                session,
                team,
                member,
                f"{NASTY} shared words {index}",
                delivery=delivery,
                audience="team_anonymous" if index else "team",
                photo=f"photo{index}<script>.jpg",
            )
        await add_reflection(session, other, other.members[0], f"{NASTY} shared words elsewhere")

    produced = await run_every_kind(services)

    for kind in ("lead_weekly", "cross_partnership"):
        texts = produced[kind]
        assert texts, kind
        htmls = texts[1::2]
        for html in htmls:
            document = lxml.html.document_fromstring(html)
            assert document.xpath("//script") == []
            assert document.xpath("//*[@onerror]") == []
            assert document.xpath("//b[text()='bold']") == []
            assert "&lt;script&gt;alert(" in html
            assert NASTY in document.text_content()  # shown to the reader as written
        for plain in texts[0::2]:
            assert NASTY in plain  # plain text is never interpreted as markup
    (heard, *_) = produced["what_we_heard"]
    assert NASTY in heard  # chat text is plain; each channel escapes for its own markup
