"""Parsing a study file piece by piece (the study section, each partnership, each project,
each person), so that one bad field does not hide the problems in the other pieces."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.study.fields import DEFAULT_PHASE_MODEL, ROLE_FIELDS
from bot.study.options import StudySection
from bot.study.problems import Loc, Problem, from_validation
from bot.study.schema import (
    CycleSpec,
    EventSpec,
    PartnershipSpec,
    PersonSpec,
    PhaseDates,
    ProjectSpec,
    ResearchQuestion,
    StudyFile,
    Team,
)


class Pieces:
    """The parts of the file that parsed, each with its location, and the problems of the rest."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.study: StudySection | None = None
        self.partnerships: list[tuple[Loc, PartnershipSpec]] = []
        self.projects: list[tuple[Loc, ProjectSpec]] = []
        self.people: list[tuple[Loc, PersonSpec]] = []
        self.events: list[tuple[Loc, EventSpec]] = []
        self.event_key_locs: list[tuple[Loc, str]] = []
        # every key written under people, parsed or not: a team naming a person whose entry has
        # a mistake elsewhere is not also an "unknown person"
        self.person_keys: set[str] = set()
        self.person_key_locs: list[tuple[Loc, str]] = []

    def _one(self, model: type[BaseModel], data: Any, loc: Loc) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            self.problems += from_validation(exc, loc, model)
            return None

    def _list(self, data: dict[str, Any], key: str) -> list[Any]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.append(Problem((key,), "should be a list (items starting with '- ')"))
            return []
        return value

    def parse(self, data: dict[str, Any]) -> None:
        for key in data:
            if key not in StudyFile.model_fields:
                close = difflib.get_close_matches(str(key), list(StudyFile.model_fields), n=1)
                hint = f" — did you mean {close[0]!r}?" if close else ""
                self.problems.append(
                    Problem(
                        (str(key),),
                        f"unknown key{hint} (known keys: study, partnerships, people, events)",
                    )
                )
        if "study" not in data:
            self.problems.append(Problem(("study",), "required, but missing"))
        else:
            self.study = self._one(StudySection, data["study"], ("study",))
        for index, item in enumerate(self._list(data, "partnerships")):
            self._partnership(item, ("partnerships", index))
        for index, item in enumerate(self._list(data, "people")):
            loc: Loc = ("people", index)
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                self.person_keys.add(item["key"])
                self.person_key_locs.append(((*loc, "key"), item["key"]))
            person = self._one(PersonSpec, item, loc)
            if person is not None:
                self.people.append((loc, person))
        for index, item in enumerate(self._list(data, "events")):
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                self.event_key_locs.append((("events", index, "key"), item["key"]))
            event = self._one(EventSpec, item, ("events", index))
            if event is not None:
                self.events.append((("events", index), event))

    def _partnership(self, item: Any, loc: Loc) -> None:
        if not isinstance(item, dict):
            self._one(PartnershipSpec, item, loc)
            return
        header = self._one(PartnershipSpec, {**item, "projects": []}, loc)
        raw_projects = item.get("projects") or []
        if not isinstance(raw_projects, list):
            self.problems.append(Problem((*loc, "projects"), "should be a list of projects"))
            return
        projects = []
        for index, raw in enumerate(raw_projects):
            project_loc: Loc = (*loc, "projects", index)
            project = self._one(ProjectSpec, raw, project_loc)
            if project is not None:
                self.projects.append((project_loc, project))
                projects.append(project)
            elif isinstance(raw, dict):
                self.projects.append((project_loc, _partial_project(raw)))
        if header is not None:
            self.partnerships.append((loc, header.model_copy(update={"projects": projects})))


def _quietly(model: type[Any], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def _parsed(model: type[Any], items: Any) -> list[Any]:
    """Each item parsed, or None where it does not (so that indexes stay those of the file)."""
    if not isinstance(items, list):
        return []
    return [_quietly(model, raw) for raw in items]


def _partial_project(raw: dict[str, Any]) -> ProjectSpec:
    """The parts of a project that parse on their own, so that a bad cadence does not hide an
    overlapping phase. (The project's own problems are already reported.)"""
    cycles = []
    for item in raw.get("cycles") or []:
        if isinstance(item, dict):
            cycles.append(
                CycleSpec.model_construct(
                    key=str(item.get("key", "")),
                    name=str(item.get("name", "")),
                    phases=_parsed(PhaseDates, item.get("phases")),
                )
            )
    team = _quietly(Team, raw.get("team") or {})
    if team is None and isinstance(raw.get("team"), dict):
        team = Team.model_validate(
            {
                role: [key for key in raw["team"].get(role) or [] if isinstance(key, str)]
                for role in ROLE_FIELDS
                if isinstance(raw["team"].get(role), list)
            }
        )
    model = raw.get("phase_model", DEFAULT_PHASE_MODEL)
    return ProjectSpec.model_construct(
        slug=raw["slug"] if isinstance(raw.get("slug"), str) else "",
        name=str(raw.get("name", "")),
        phase_model=model if isinstance(model, str) else "",
        research_questions=_parsed(ResearchQuestion, raw.get("research_questions")),
        cycles=cycles,
        team=team or Team(),
    )
