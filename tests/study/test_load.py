from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.errors import StudyError
from bot.services import Services
from bot.study import load_study
from storage.db import transaction
from storage.models import (
    AuditLog,
    ChannelIdentity,
    Cycle,
    Delivery,
    Membership,
    Person,
    Phase,
    Project,
    Reflection,
    Study,
)
from tests.study.conftest import DEMO, demo_data, dump, project

WriteStudy = Callable[..., Path]


async def test_loading_the_demo_twice_leaves_identical_database_content(
    any_services: Services,
) -> None:
    first = await load_study(any_services, DEMO)
    assert first.created["person"] == 39 and first.created["project"] == 11
    before = await dump(any_services)
    second = await load_study(any_services, DEMO)
    assert not second.changed
    assert await dump(any_services) == before  # updated_at and loaded_at included


async def test_a_failed_load_leaves_the_database_exactly_as_it_was(
    any_services: Services, write_study: WriteStudy
) -> None:
    await load_study(any_services, DEMO)
    before = await dump(any_services)
    data = demo_data()
    project(data, "fife-family-hub")["name"] = "Renamed, but the file is broken"
    project(data, "fife-family-hub")["cycles"][0]["phases"][1]["ends_on"] = date(2026, 9, 1)
    with pytest.raises(StudyError) as caught:
        await load_study(any_services, write_study(data))
    assert any("cycles[0].phases[1].ends_on" in p for p in caught.value.problems)
    assert await dump(any_services) == before


async def test_a_load_that_fails_half_way_through_writes_nothing(
    any_services: Services, write_study: WriteStudy
) -> None:
    data = demo_data()
    data["people"][5]["channels"] = {"telegram": "700100"}
    await load_study(any_services, write_study(data))
    before = await dump(any_services)
    # the file moves the chat to another person: found only after projects were updated
    del data["people"][5]["channels"]
    data["people"][6]["channels"] = {"telegram": 700100}
    project(data, "glasgow-thriving-places")["name"] = "Thriving Places (renamed)"
    with pytest.raises(StudyError) as caught:
        await load_study(any_services, write_study(data, "moved.yaml"))
    assert (
        "people[6].channels.telegram: 700100 is already linked to person"
        in (caught.value.problems[0])
    )
    assert await dump(any_services) == before


async def test_moving_one_phase_date_changes_that_date_and_nothing_else(
    any_services: Services, write_study: WriteStudy
) -> None:
    data = demo_data()
    await load_study(any_services, write_study(data))
    before = await dump(any_services)
    scoping = project(data, "fife-family-hub")["cycles"][1]["phases"][0]
    scoping["ends_on"] = date(2027, 4, 2)  # leaves a gap before "Exploring evidence"
    report = await load_study(any_services, write_study(data))
    assert dict(report.updated) == {"phase": 1}
    after = await dump(any_services)

    changed = {
        table: [
            (old, new) for old, new in zip(before[table], after[table], strict=False) if old != new
        ]
        for table in before
    }
    assert {table for table, pairs in changed.items() if pairs} == {"phases", "studies"}
    [(old_phase, new_phase)] = changed["phases"]
    assert {k for k in old_phase if old_phase[k] != new_phase[k]} == {"ends_on", "updated_at"}
    assert new_phase["ends_on"] == date(2027, 4, 2)
    [(old_study, new_study)] = changed["studies"]
    assert {k for k in old_study if old_study[k] != new_study[k]} == {
        "source_sha256",
        "loaded_at",
        "updated_at",
    }
    assert len(after["audit_log"]) == len(before["audit_log"]) + 1
    assert {t for t in after if len(after[t]) != len(before[t])} == {"audit_log"}


async def test_renaming_a_project_updates_it_in_place(
    any_services: Services, write_study: WriteStudy
) -> None:
    data = demo_data()
    await load_study(any_services, write_study(data))
    async with any_services.sessions() as session:
        old = await session.scalar(select(Project).where(Project.slug == "fife-family-hub"))
    assert old is not None
    project(data, "fife-family-hub")["name"] = "Family hub (Levenmouth)"
    report = await load_study(any_services, write_study(data))
    assert dict(report.updated) == {"project": 1}
    async with any_services.sessions() as session:
        renamed = await session.scalar(select(Project).where(Project.slug == "fife-family-hub"))
    assert renamed is not None
    assert (renamed.id, renamed.name) == (old.id, "Family hub (Levenmouth)")


async def test_a_person_removed_from_the_file_is_deactivated_and_their_reflections_stay(
    any_services: Services, write_study: WriteStudy
) -> None:
    data = demo_data()
    await load_study(any_services, write_study(data))
    async with transaction(any_services.sessions) as session:
        rachel = await session.scalar(select(Person).where(Person.key == "rachel-hunter"))
        hub = await session.scalar(select(Project).where(Project.slug == "fife-family-hub"))
        assert rachel is not None and hub is not None
        session.add(
            Reflection(
                person_id=rachel.id,
                project_id=hub.id,
                kind="text",
                text="The shared front door is working.",
                audience="team_anonymous",
                channel="webchat",
            )
        )
    code = rachel.study_code

    data["people"] = [p for p in data["people"] if p["key"] != "rachel-hunter"]
    for partnership in data["partnerships"]:
        for item in partnership["projects"]:
            participants = item["team"]["participants"]
            item["team"]["participants"] = [k for k in participants if k != "rachel-hunter"]
    report = await load_study(any_services, write_study(data, "without-rachel.yaml"))
    assert report.deactivated["person"] == 1 and report.deactivated["membership"] == 2

    async with any_services.sessions() as session:
        person = await session.scalar(select(Person).where(Person.key == "rachel-hunter"))
        assert person is not None and not person.active
        memberships = list(
            await session.scalars(select(Membership).where(Membership.person_id == person.id))
        )
        assert memberships and not any(m.active for m in memberships)
        texts = await session.scalars(
            select(Reflection.text).where(Reflection.person_id == person.id)
        )
        assert list(texts) == ["The shared front door is working."]

    await load_study(any_services, DEMO)  # back in the file: active again, same study code
    async with any_services.sessions() as session:
        person = await session.scalar(select(Person).where(Person.key == "rachel-hunter"))
        assert person is not None and person.active and person.study_code == code
        active = await session.scalars(
            select(Membership.active).where(Membership.person_id == person.id)
        )
        assert all(active)


async def test_a_project_removed_from_the_file_is_deactivated_not_deleted(
    any_services: Services, write_study: WriteStudy
) -> None:
    data = demo_data()
    await load_study(any_services, write_study(data))
    data["partnerships"][2]["projects"] = [
        p for p in data["partnerships"][2]["projects"] if p["slug"] != "glasgow-thriving-places"
    ]
    report = await load_study(any_services, write_study(data))
    assert report.deactivated["project"] == 1
    async with any_services.sessions() as session:
        row = await session.scalar(select(Project).where(Project.slug == "glasgow-thriving-places"))
    assert row is not None and not row.active


async def test_the_database_holds_what_the_file_says_in_the_agreed_shape(
    any_services: Services, write_study: WriteStudy
) -> None:
    data = demo_data()
    data["people"][0]["channels"] = {"telegram": 123456789, "slack": "U024BE7LH"}
    data["people"][1]["channels"] = {"slack": {"workspace": "T024BE7LD", "user": "U0ABCDEF1"}}
    project(data, "fife-family-hub")["digest"] = {
        "heard": {"weekday": "thu"},
        "plan_prompts": ["now-what"],
    }
    await load_study(any_services, write_study(data))
    async with any_services.sessions() as session:
        study = await session.scalar(select(Study))
        assert study is not None
        assert study.options["consent"]["version"] == "2026-09"
        assert study.options["digest"] == {
            "weekday": "mon",
            "time": "08:00",
            "empty_week": "note",
            "heard": {"weekday": "fri", "time": "15:00"},
        }
        assert study.options["phase_models"]["plan-act-observe-reflect"] == [
            "Plan",
            "Act",
            "Observe",
            "Reflect",
        ]
        welfare = await session.scalar(
            select(Project).where(Project.slug == "fife-kirkcaldy-welfare-hub")
        )
        assert welfare is not None
        assert welfare.cadence["per_week"] == 2 and welfare.cadence["at"] == "10:30:00"
        assert welfare.digest == {
            "weekday": "fri",
            "time": "15:00",
            "empty_week": "note",
            "heard": {"weekday": "fri", "time": "15:00"},
        }
        hub = await session.scalar(select(Project).where(Project.slug == "fife-family-hub"))
        assert hub is not None
        assert hub.digest["heard"] == {"weekday": "thu", "time": "15:00"}
        assert hub.digest["plan_prompts"] == ["now-what"]
        keys = await session.scalars(
            select(Phase.key).where(Phase.name == "Exploring evidence").distinct()
        )
        assert list(keys) == ["exploring-evidence"]
        kirsty = await session.scalar(select(Person).where(Person.key == "kirsty-duncan"))
        assert kirsty is not None
        assert kirsty.working_days == [0, 1, 2]
        assert f"{kirsty.work_starts:%H:%M}-{kirsty.work_ends:%H:%M}" == "09:30-15:00"
        assert re.fullmatch(r"P-[A-Z0-9]{5}", kirsty.study_code)
        david = await session.scalar(select(Person).where(Person.key == "david-ironside"))
        assert david is not None
        assert david.pauses == [{"from": "2026-11-23", "until": "2026-12-11"}]
        identities = [
            (i.channel, i.workspace, i.external_id, i.status)
            for i in await session.scalars(select(ChannelIdentity).order_by(ChannelIdentity.id))
        ]
        assert identities == [
            ("telegram", "", "123456789", "active"),
            ("slack", "", "U024BE7LH", "active"),
            ("slack", "T024BE7LD", "U0ABCDEF1", "active"),
        ]
        roles = await session.scalars(select(Membership.role).distinct())
        assert set(roles) == {"lead", "participant", "researcher", "admin"}
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "study.load"))
        assert audit is not None and audit.details["created"]["person"] == 39


async def test_a_cycle_with_deliveries_cannot_be_dropped_from_the_file(
    any_services: Services, write_study: WriteStudy
) -> None:
    data = demo_data()
    await load_study(any_services, write_study(data))
    async with transaction(any_services.sessions) as session:
        phase = await session.scalar(select(Phase).where(Phase.name == "Reflect"))
        person = await session.scalar(select(Person))
        assert phase is not None and person is not None
        slot = datetime(2027, 3, 2, 10, tzinfo=UTC)
        project_id = await session.scalar(
            select(Project.id).where(Project.slug == "glasgow-in-work-poverty")
        )
        session.add(
            Delivery(
                person_id=person.id,
                project_id=project_id,
                slot=slot,
                due_at=slot,
                cycle_id=phase.cycle_id,
                phase_id=phase.id,
                prompt_key="k",
                prompt_kind="text",
                prompt_text="How did it go?",
            )
        )
    before = await dump(any_services)
    cycles: list[dict[str, Any]] = project(data, "glasgow-in-work-poverty")["cycles"]
    cycles[0]["phases"].pop()  # the first cycle's Reflect phase, which has a delivery
    with pytest.raises(StudyError) as caught:
        await load_study(any_services, write_study(data))
    assert "phase 'Reflect' is no longer in the file" in caught.value.problems[0]
    assert await dump(any_services) == before


async def test_a_database_holds_one_study_and_refuses_another(
    services: Services, write_study: WriteStudy
) -> None:
    await load_study(services, DEMO)
    before = await dump(services)
    data = demo_data()
    data["study"]["slug"] = "another-study"
    with pytest.raises(StudyError) as caught:
        await load_study(services, write_study(data))
    assert "this database holds study 'wws-demo', not 'another-study'" in caught.value.problems[0]
    assert await dump(services) == before


async def test_a_cycle_nothing_refers_to_can_be_dropped_and_phases_renamed(
    any_services: Services, write_study: WriteStudy
) -> None:
    data = demo_data()
    await load_study(any_services, write_study(data))
    cycles = project(data, "wd-community-profiling")["cycles"]
    cycles[1]["phases"][2]["ends_on"] = date(2027, 12, 31)
    dropped = cycles.pop()
    report = await load_study(any_services, write_study(data))
    assert report.removed == {"cycle": 1, "phase": len(dropped["phases"])}
    async with any_services.sessions() as session:
        wd = await session.scalar(select(Project).where(Project.slug == "wd-community-profiling"))
        assert wd is not None
        keys = await session.scalars(select(Cycle.key).where(Cycle.project_id == wd.id))
        assert sorted(keys) == ["cycle-1", "cycle-2"]
        last = await session.scalar(
            select(Cycle).where(Cycle.project_id == wd.id, Cycle.key == "cycle-2")
        )
        assert last is not None and last.ends_on == date(2027, 12, 31)


async def test_a_new_consent_version_keeps_the_earlier_texts_for_showing_what_changed(
    services: Services, write_study: Callable[[dict[str, Any]], Path]
) -> None:
    data = demo_data()
    first = data["study"]["consent"]
    await load_study(services, write_study(data))
    data["study"]["consent"] = {
        "version": "v-next",
        "text": first["text"] + "\nAnonymised answers may be shared with a commercial partner.",
        "changes": "A commercial partner may see anonymised answers.",
    }
    await load_study(services, write_study(data))
    async with services.sessions() as session:
        study = await session.scalar(select(Study))
    assert study is not None
    assert study.options["consent"]["version"] == "v-next"
    assert study.options["consent"]["changes"].startswith("A commercial partner")
    assert study.options["consent_texts"] == {
        str(first["version"]): first["text"],
        "v-next": data["study"]["consent"]["text"],
    }
