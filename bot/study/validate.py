"""Validating a study file: every problem at once, each with the path of the bad field.

A problem reads ``FILE: partnerships[1].projects[0].cycles[2].phases[1].ends_on: what is wrong
(line 88)``. The file is checked piece by piece (the study section, each partnership, each
project, each person), so that one bad field does not hide the problems elsewhere; then the
checks that span pieces run on every piece that parsed: duplicate slugs and keys, unknown people
in a team, phases outside their project's phase model, phases that overlap.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.study.problems import Loc, Problem, format_path, from_validation
from bot.study.schema import (
    BUILTIN_PHASE_MODELS,
    DEFAULT_PHASE_MODEL,
    ROLE_FIELDS,
    CycleSpec,
    PartnershipSpec,
    PersonSpec,
    PhaseDates,
    ProjectSpec,
    ResearchQuestion,
    StudyFile,
    StudySection,
    Team,
    phase_key,
)


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, except that ``09:30`` stays a string (YAML 1.1 reads it as a number)."""


_Loader.yaml_implicit_resolvers = {
    first: list(resolvers) for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _digit in "0123456789":
    _Loader.yaml_implicit_resolvers.setdefault(_digit, []).insert(
        0, ("tag:yaml.org,2002:str", re.compile(r"^\d{1,2}:\d\d(?::\d\d)?$"))
    )


@dataclass
class Checked:
    """The outcome of checking one file: the parsed study (when valid) and every problem."""

    source: str
    study: StudyFile | None
    problems: list[str]
    raw: bytes = b""
    # things that are allowed but probably not meant (a project without a lead)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.study is not None


def check_study(path: str | Path) -> list[str]:
    """Every problem in the study file at ``path``, as ``FILE: path: message`` lines."""
    return read_study(path).problems


def read_study(path: str | Path) -> Checked:
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return Checked(source, None, [f"{source}: cannot read the file: {exc.strerror or exc}"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Checked(source, None, [f"{source}: not UTF-8 text (byte {exc.start})"], raw)
    checked = check_text(text, source)
    checked.raw = raw
    return checked


def check_text(text: str, source: str = "<study>") -> Checked:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        return Checked(source, None, [f"{source}: {where}YAML error: {what}"])
    except yaml.YAMLError as exc:
        return Checked(source, None, [f"{source}: YAML error: {exc}"])
    finally:
        loader.dispose()

    problems = _duplicate_keys(node, ())
    study = None
    if not isinstance(data, dict):
        problems.append(Problem((), "a study file is a mapping with study, partnerships, people"))
    else:
        pieces = _Pieces()
        pieces.parse(data)
        problems += pieces.problems
        problems += _cross_checks(pieces)
        if not problems:
            try:
                study = StudyFile.model_validate(data)
            except ValidationError as exc:
                problems += from_validation(exc, (), StudyFile)
    lines = _rendered(problems, source, node)
    warnings = _rendered(_warnings(study), source, node) if study is not None else []
    return Checked(source, study if not lines else None, lines, warnings=warnings)


def _rendered(problems: list[Problem], source: str, node: yaml.Node | None) -> list[str]:
    located = [(_line_of(node, problem.loc) or 0, problem) for problem in problems]
    located.sort(key=lambda pair: pair[0])
    return [_render(problem, source, line) for line, problem in located]


def _warnings(study: StudyFile) -> list[Problem]:
    found = []
    in_a_team: set[str] = set()
    for p, partnership in enumerate(study.partnerships):
        for j, project in enumerate(partnership.projects):
            loc: Loc = ("partnerships", p, "projects", j)
            for role in ROLE_FIELDS:
                in_a_team.update(getattr(project.team, role))
            if not project.team.leads:
                found.append(Problem((*loc, "team"), "no lead: nobody gets this project's digest"))
            if not project.cycles:
                found.append(Problem((*loc, "cycles"), "no cycles: nobody is asked anything"))
    for index, person in enumerate(study.people):
        if person.key not in in_a_team:
            found.append(Problem(("people", index), f"{person.key!r} is in no project's team"))
    return found


def _render(problem: Problem, source: str, line: int) -> str:
    where = f" (line {line})" if line else ""
    if not problem.loc:
        return f"{source}: {problem.message}{where}"
    return f"{source}: {problem.path}: {problem.message}{where}"


def _line_of(node: yaml.Node | None, loc: Loc) -> int | None:
    """The line of the deepest node on ``loc`` that exists in the document."""
    if node is None:
        return None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def _duplicate_keys(node: yaml.Node | None, loc: Loc) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            if name in seen:
                problems.append(
                    Problem(
                        (*loc, name),
                        f"key given twice (again on line {key.start_mark.line + 1})",
                    )
                )
            seen.add(name)
            problems += _duplicate_keys(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, (*loc, index))
    return problems


# ── parsing piece by piece ───────────────────────────────────────────────────────────────────


class _Pieces:
    """The parts of the file that parsed, each with its location, and the problems of the rest."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.study: StudySection | None = None
        self.partnerships: list[tuple[Loc, PartnershipSpec]] = []
        self.projects: list[tuple[Loc, ProjectSpec]] = []
        self.people: list[tuple[Loc, PersonSpec]] = []
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
                        (str(key),), f"unknown key{hint} (known keys: study, partnerships, people)"
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


# ── checks across pieces ─────────────────────────────────────────────────────────────────────


def _duplicates(items: list[tuple[Loc, str]], what: str) -> list[Problem]:
    problems = []
    first: dict[str, Loc] = {}
    for loc, value in items:
        if value in first:
            problems.append(
                Problem(
                    loc, f"duplicate {what} {value!r} (first used at {format_path(first[value])})"
                )
            )
        else:
            first[value] = loc
    return problems


def _cross_checks(pieces: _Pieces) -> list[Problem]:
    problems = _duplicates(
        [((*loc, "slug"), p.slug) for loc, p in pieces.partnerships], "partnership slug"
    )
    problems += _duplicates(
        [((*loc, "slug"), p.slug) for loc, p in pieces.projects if p.slug], "project slug"
    )
    problems += _duplicates(pieces.person_key_locs, "person key")
    problems += _duplicates(
        [
            ((*loc, "channels", "telegram"), p.channels.telegram)
            for loc, p in pieces.people
            if p.channels.telegram
        ],
        "Telegram chat id",
    )
    problems += _duplicates(
        [
            ((*loc, "channels", "slack"), f"{p.channels.slack.workspace}/{p.channels.slack.user}")
            for loc, p in pieces.people
            if p.channels.slack
        ],
        "Slack user",
    )
    models = pieces.study.all_phase_models() if pieces.study else dict(BUILTIN_PHASE_MODELS)
    for loc, project in pieces.projects:
        problems += _project_checks(loc, project, models, pieces.person_keys)
    return problems


def _project_checks(
    loc: Loc, project: ProjectSpec, models: dict[str, Any], people: set[str]
) -> list[Problem]:
    problems = _duplicates(
        [
            ((*loc, "research_questions", i, "key"), q.key)
            for i, q in enumerate(project.research_questions)
            if q is not None
        ],
        "research question key",
    )
    problems += _duplicates(
        [((*loc, "cycles", i, "key"), c.key) for i, c in enumerate(project.cycles) if c.key],
        "cycle key",
    )
    for role in ROLE_FIELDS:
        members = getattr(project.team, role)
        problems += _duplicates(
            [((*loc, "team", role, i), key) for i, key in enumerate(members)], "person"
        )
        for index, key in enumerate(members):
            if key not in people:
                problems.append(
                    Problem(
                        (*loc, "team", role, index), f"unknown person {key!r} (not under people)"
                    )
                )
    if project.phase_model not in models:
        problems.append(
            Problem(
                (*loc, "phase_model"),
                f"unknown phase model {project.phase_model!r} (known: {', '.join(sorted(models))})",
            )
        )
        return problems
    problems += _phase_checks(
        loc, project, [phase_key(name) for name in models[project.phase_model]]
    )
    return problems


def _phase_checks(loc: Loc, project: ProjectSpec, model: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    previous: tuple[Loc, PhaseDates] | None = None
    for c, cycle in enumerate(project.cycles):
        position = -1
        for p, phase in enumerate(cycle.phases):
            if phase is None:  # a phase that does not parse; its problem is already reported
                continue
            phase_loc: Loc = (*loc, "cycles", c, "phases", p)
            key = phase_key(phase.name)
            if key not in model:
                problems.append(
                    Problem(
                        (*phase_loc, "name"),
                        f"{phase.name!r} is not a phase of {project.phase_model!r} "
                        f"(its phases: {', '.join(model)})",
                    )
                )
            elif model.index(key) <= position:
                problems.append(
                    Problem(
                        (*phase_loc, "name"),
                        f"{phase.name!r} is out of order or repeated: a cycle's phases follow "
                        f"the phase model ({' → '.join(model)})",
                    )
                )
            else:
                position = model.index(key)
            if previous is not None and phase.starts_on <= previous[1].ends_on:
                earlier_loc, earlier = previous
                problems.append(
                    Problem(
                        (*phase_loc, "starts_on"),
                        f"starts on {phase.starts_on}, overlapping {earlier.name!r} "
                        f"({format_path(earlier_loc[len(loc) :])}, until {earlier.ends_on}); "
                        "phases and cycles run in order and never overlap",
                    )
                )
            if previous is None or phase.ends_on > previous[1].ends_on:
                previous = (phase_loc, phase)
    return problems
