"""The loaded study, read back from the database: what ``carbot study show`` prints."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from bot.services import Services
from prompts.cadence import WEEKDAYS
from storage.models import (
    Cycle,
    Membership,
    Partnership,
    Person,
    Phase,
    Project,
    ResearchQuestion,
)
from storage.queries import the_study

ROLE_TITLES = (
    ("lead", "leads"),
    ("participant", "participants"),
    ("researcher", "researchers"),
    ("admin", "admins"),
)


def _cadence(cadence: dict[str, Any]) -> str:
    per_week = cadence.get("per_week", "?")
    days = ", ".join(cadence.get("weekdays") or [])
    when = (
        f"at {str(cadence['at'])[:5]}"
        if cadence.get("at")
        else "between " + "–".join(str(t)[:5] for t in cadence.get("window") or [])
    )
    return f"{per_week} prompt(s) a week on {days}, {when}"


async def describe_study(services: Services, *, people: bool = False) -> list[str]:
    """The study as loaded, as lines of text; ``people`` adds one line per person."""
    async with services.sessions() as session:
        study = await the_study(session)
        if study is None:
            return ["No study is loaded yet. Load one with `carbot study load FILE`."]
        options = study.options
        digest = options.get("digest", {})
        loaded = f"{study.loaded_at:%Y-%m-%d %H:%M} UTC" if study.loaded_at else "never"
        lines = [
            f"{study.name} ({study.slug})",
            f"  consent version {options.get('consent', {}).get('version', '?')}; default "
            f"audience {options.get('default_audience')}; time zone {options.get('timezone')}",
            f"  digests on {digest.get('weekday')} at {digest.get('time')}"
            f" (empty week: {digest.get('empty_week')}); file loaded {loaded}",
        ]
        names = {p.id: p.name for p in await session.scalars(select(Person))}
        teams: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for membership in await session.scalars(
            select(Membership).where(Membership.active.is_(True)).order_by(Membership.id)
        ):
            teams[membership.project_id][membership.role].append(names[membership.person_id])
        hidden = 0
        for partnership in await session.scalars(select(Partnership).order_by(Partnership.name)):
            if not partnership.active:
                hidden += 1
                continue
            lines += ["", f"{partnership.name} ({partnership.slug}, {partnership.timezone})"]
            projects = await session.scalars(
                select(Project)
                .where(Project.partnership_id == partnership.id)
                .order_by(Project.name)
            )
            for project in projects:
                if not project.active:
                    hidden += 1
                    continue
                lines += await _project_lines(session, project, teams[project.id])
        if hidden:
            lines += ["", f"({hidden} inactive partnership(s) or project(s) not shown)"]
        all_people = list(await session.scalars(select(Person).order_by(Person.key)))
        active = [p for p in all_people if p.active]
        lines += ["", f"People: {len(active)} active, {len(all_people) - len(active)} inactive"]
        if people:
            lines += [_person_line(person) for person in all_people]
    return lines


async def _project_lines(session: Any, project: Project, team: dict[str, list[str]]) -> list[str]:
    lines = [
        f"  {project.name} ({project.slug})",
        f"    phase model {project.phase_model}; audience {project.default_audience}; "
        f"{_cadence(project.cadence)}",
    ]
    questions = await session.scalars(
        select(ResearchQuestion)
        .where(ResearchQuestion.project_id == project.id, ResearchQuestion.active.is_(True))
        .order_by(ResearchQuestion.position)
    )
    for question in questions:
        themes = f" [{', '.join(question.themes)}]" if question.themes else ""
        lines.append(f"    ? {question.key}: {question.text}{themes}")
    cycles = await session.scalars(
        select(Cycle).where(Cycle.project_id == project.id).order_by(Cycle.position)
    )
    for cycle in cycles:
        lines.append(f"    {cycle.name} ({cycle.key}): {cycle.starts_on} – {cycle.ends_on}")
        phases = await session.scalars(
            select(Phase).where(Phase.cycle_id == cycle.id).order_by(Phase.position)
        )
        for phase in phases:
            lines.append(f"      {phase.name}: {phase.starts_on} – {phase.ends_on}")
    for role, title in ROLE_TITLES:
        if team.get(role):
            lines.append(f"    {title}: {', '.join(sorted(team[role]))}")
    return lines


def _person_line(person: Person) -> str:
    days = ",".join(WEEKDAYS[day] for day in person.working_days)
    hours = f"{person.work_starts:%H:%M}–{person.work_ends:%H:%M}"
    extra = [] if person.active else ["inactive"]
    if person.timezone:
        extra.append(person.timezone)
    if person.pauses:
        extra.append(f"{len(person.pauses)} leave period(s)")
    if person.withdrawn_at:
        extra.append("withdrawn")
    tail = f" ({'; '.join(extra)})" if extra else ""
    return f"  {person.study_code} {person.key}: {person.name}, {days} {hours}{tail}"
