"""Events in the study file: retreats and local events, checked with their paths and stored."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.services import Services
from bot.study import load_study, read_study
from storage.models import Event
from tests.study.conftest import demo_data

WriteStudy = Callable[..., Path]


def _with_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    data = demo_data()
    data["events"] = events
    return data


def test_the_demo_study_has_a_retreat_in_the_recent_past_and_one_ahead() -> None:
    checked = read_study(Path(__file__).resolve().parents[2] / "examples" / "wws-demo.yaml")
    assert checked.ok, checked.problems
    assert checked.study is not None
    retreats = [e for e in checked.study.events if e.kind == "retreat"]
    demo_day = date(2026, 12, 3)
    assert any(e.ends_on < demo_day for e in retreats)
    assert any(e.starts_on > demo_day for e in retreats)


def test_bad_events_are_reported_with_their_paths_and_lines(write_study: WriteStudy) -> None:
    path = write_study(
        _with_events(
            [
                {
                    "key": "retreat-1",
                    "name": "Retreat",
                    "kind": "party",
                    "starts_on": "2027-01-20",
                    "ends_on": "2027-01-19",
                    "partnerships": ["fife"],
                },
                {
                    "key": "retreat-1",
                    "name": "Again",
                    "starts_on": "2027-02-01",
                    "ends_on": "2027-02-01",
                    "partnerships": ["atlantis"],
                    "projects": ["fife-family-hub", "no-such-project"],
                },
                {
                    "key": "empty",
                    "name": "Nobody",
                    "starts_on": "2027-03-01",
                    "ends_on": "2027-03-01",
                },
            ]
        )
    )
    problems = read_study(path).problems
    text = "\n".join(problems)
    assert "events[0].kind: Input should be 'retreat' or 'local-event'" in text
    assert "events[0].ends_on: ends on 2027-01-19, before it starts on 2027-01-20" in text
    assert "events[1].key: duplicate event key 'retreat-1' (first used at events[0].key)" in text
    assert "events[1].partnerships[0]: unknown partnership 'atlantis'" in text
    assert "events[1].projects[1]: unknown project 'no-such-project'" in text
    assert "events[2]: no partnerships or projects take part" in text
    assert all(re.search(r"\(line \d+\)$", line) for line in problems if "events[" in line)


async def test_events_are_stored_with_the_projects_taking_part_and_load_idempotently(
    any_services: Services, write_study: WriteStudy
) -> None:
    data = _with_events(
        [
            {
                "key": "retreat-1",
                "name": "Retreat, Stirling",
                "starts_on": "2027-01-19",
                "ends_on": "2027-01-20",
                "partnerships": ["fife"],
                "projects": [],
            }
        ]
    )
    glasgow = next(p for p in data["partnerships"] if p["slug"] == "glasgow")
    data["events"][0]["projects"] = [glasgow["projects"][0]["slug"]]
    fife = next(p for p in data["partnerships"] if p["slug"] == "fife")
    expected = {p["slug"] for p in fife["projects"]} | {glasgow["projects"][0]["slug"]}
    path = write_study(data)
    first = await load_study(any_services, path)
    assert first.created["event"] == 1
    assert not (await load_study(any_services, path)).changed
    async with any_services.sessions() as session:
        event = await session.scalar(select(Event).options(selectinload(Event.projects)))
        assert event is not None
        assert (event.name, event.kind, event.starts_on) == (
            "Retreat, Stirling",
            "retreat",
            date(2027, 1, 19),
        )
        assert {p.slug for p in event.projects} == expected

    data["events"][0]["partnerships"] = []
    await load_study(any_services, write_study(data, "fewer.yaml"))
    async with any_services.sessions() as session:
        event = await session.scalar(select(Event).options(selectinload(Event.projects)))
        assert event is not None
        assert {p.slug for p in event.projects} == {glasgow["projects"][0]["slug"]}

    data["events"] = []
    report = await load_study(any_services, write_study(data, "none.yaml"))
    assert report.deactivated["event"] == 1
