"""The checks that span pieces of a study file: duplicate slugs and keys, unknown people in a
team, phases outside their project's phase model or overlapping, the study's own prompts; and
the warnings about what is allowed but probably not meant."""

from __future__ import annotations

import re
from typing import Any

from adapters.errors import PromptLibraryError
from bot.study.fields import BUILTIN_PHASE_MODELS, ROLE_FIELDS, phase_key
from bot.study.options import StudySection
from bot.study.pieces import Pieces
from bot.study.problems import Loc, Problem, format_path
from bot.study.schema import PhaseDates, ProjectSpec, StudyFile
from digests.audience import SMALL_N
from prompts.library import load_library


def warnings(study: StudyFile) -> list[Problem]:
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
            participants = len(set(project.team.participants))
            if 0 < participants < SMALL_N:
                found.append(
                    Problem(
                        (*loc, "team", "participants"),
                        f"only {participants} participant{'s' if participants > 1 else ''}: "
                        f"too few for anonymous reporting (at least {SMALL_N} are needed), so "
                        "their 'Team, no name' answers never reach the lead's digest; "
                        "participants are told so when they choose who sees their answers",
                    )
                )
    for index, person in enumerate(study.people):
        if person.key not in in_a_team:
            found.append(Problem(("people", index), f"{person.key!r} is in no project's team"))
    return found


def prompt_checks(study: StudySection) -> list[Problem]:
    """The study's own prompts, checked by the prompt library (which reports its own paths)."""
    try:
        load_library({"prompts": study.prompts.model_dump(mode="json")})
    except PromptLibraryError as exc:
        problems = []
        for text in exc.problems:
            found = re.match(
                r"^prompts\.items\[(\d+)\](?: \([^)]*\))?((?:\.[^.:\s]+)*): (.*)$", text
            )
            if found is None:
                problems.append(Problem(("study", "prompts"), text))
                continue
            index, rest, message = found.groups()
            sub: Loc = tuple(int(p) if p.isdigit() else p for p in rest.split(".") if p)
            problems.append(Problem(("study", "prompts", "items", int(index), *sub), message))
        return problems
    return []


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


def cross_checks(pieces: Pieces) -> list[Problem]:
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
    problems += _event_checks(pieces)
    return problems


def _event_checks(pieces: Pieces) -> list[Problem]:
    """Event keys are unique; every partnership and project taking part is in the file."""
    problems = _duplicates(pieces.event_key_locs, "event key")
    known = {
        "partnerships": {p.slug for _, p in pieces.partnerships},
        "projects": {p.slug for _, p in pieces.projects if p.slug},
    }
    for loc, event in pieces.events:
        for field_name, slugs in known.items():
            listed = getattr(event, field_name)
            problems += _duplicates(
                [((*loc, field_name, i), slug) for i, slug in enumerate(listed)], field_name[:-1]
            )
            for index, slug in enumerate(listed):
                if slug not in slugs:
                    what = "partnership" if field_name == "partnerships" else "project"
                    problems.append(
                        Problem(
                            (*loc, field_name, index),
                            f"unknown {what} {slug!r} (not under partnerships)",
                        )
                    )
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
