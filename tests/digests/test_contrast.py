"""Every piece of text in a rendered digest has a contrast of at least 4.5:1 (WCAG AA) with the
background it sits on, as the inlined styles say."""

from __future__ import annotations

import re
from typing import Any

import lxml.html
import pytest

from bot.cli.digest import render_preview
from storage.db import transaction
from storage.models import Membership
from tests.digests.factory import add_person, add_reflection, add_study, add_team
from tests.digests.helpers import bodies

_COLOR = re.compile(r"(?:^|;)\s*color\s*:\s*(#[0-9a-fA-F]{6})")
_BACKGROUND = re.compile(r"(?:^|;)\s*background(?:-color)?\s*:\s*(#[0-9a-fA-F]{6})")


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _nearest(element: Any, pattern: re.Pattern[str], default: str) -> str:
    while element is not None:
        found = pattern.search(element.get("style") or "")
        if found:
            return found.group(1).lower()
        element = element.getparent()
    return default


def test_the_palette_arithmetic_is_right() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


async def test_all_text_in_both_digests_meets_wcag_aa_contrast(services: Any) -> None:
    async with transaction(services.sessions) as session:
        await add_study(session)
        team = await add_team(session, members=3)
        researcher = await add_person(session, "R", email="r@uni.example")
        session.add(
            Membership(person_id=researcher.id, project_id=team.project.id, role="researcher")
        )
        for index, member in enumerate(team.members):
            await add_reflection(
                session, team, member, f"Bus times again {index}", audience="team_anonymous"
            )
        await add_reflection(
            session, team, team.members[0], "A photo", kind="evidence", photo="p.jpg"
        )

    pages = [
        bodies(await render_preview(services, "family-hub", "2027-W10"))[1],
        bodies(await render_preview(services, None, "2027-W10"))[1],
    ]

    checked = 0
    for html in pages:
        document = lxml.html.document_fromstring(html)
        for element in document.iter():
            if not isinstance(element.tag, str) or element.tag in ("style", "title", "head"):
                continue
            if not (element.text or "").strip() or (element.text or "").strip() == "\xa0":
                continue
            colour = _nearest(element, _COLOR, "#1b1b1b")
            background = _nearest(element, _BACKGROUND, "#ffffff")
            ratio = contrast(colour, background)
            assert ratio >= 4.5, (
                f"{element.text.strip()[:40]!r}: {colour} on {background} is {ratio:.2f}:1"
            )
            checked += 1
    assert checked > 50
