"""Simulated planning: generated people and projects, the planner's logic over simulated time,
and an independent audit of the outcome (``carbot simulate``).

Nothing is sent and no database is touched. Generated people (mixed time zones, part-time
patterns, leave, pauses) in generated projects (several cadences, both phase models) are planned
the way ``plan_once`` plans them — every few simulated hours, two days ahead, with each person's
earlier prompts as ``taken`` — then every prompt is pretended sent at its slot, a share of them
answered, and the rest reminded per ``reminder_at``. The figures are checked independently of
the schedule code: local times straight from ``zoneinfo`` and holidays straight from the
``holidays`` package.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
import time as timer
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

from prompts.cadence import Cadence
from prompts.library import Library, load_library, neighbours
from prompts.schedule import WorkingPattern, plan_slots, reminder_at, within_budget
from prompts.timecost import CAP, Part, by_length

ZONES: list[tuple[str, int]] = [
    ("Europe/London", 70), ("America/Toronto", 10), ("Asia/Kolkata", 10), ("Australia/Sydney", 10),
]  # fmt: skip
WEEKS: list[tuple[tuple[int, ...], int]] = [
    ((0, 1, 2, 3, 4), 60), ((0, 1, 2), 12), ((1, 2, 3, 4), 12), ((1, 2, 3, 4, 5), 8), ((2,), 8),
]  # fmt: skip
HOURS = [
    (time(9), time(17)), (time(8), time(16)), (time(9, 30), time(13, 30)),
    (time(12), time(20)), (time(7), time(15)), (time(10), time(14, 30)),
]  # fmt: skip
CADENCES = [
    Cadence(),
    Cadence(per_week=3, weekdays=("mon", "wed", "fri"), at=time(10, 30), weekly_cap=3),
    Cadence(per_week=1, weekdays=("fri",), window=(time(13), time(16))),
    Cadence(per_week=2, weekdays=("tue", "thu"), at=time(9), reminder_after_hours=None),
    Cadence(per_week=2, weekdays=("mon", "tue", "wed", "thu", "fri"), weekly_cap=2),
    Cadence(per_week=3, weekdays=("mon", "tue", "thu", "sun"), min_gap_hours=12,
            answer_window_hours=72, reminder_after_hours=30),
]  # fmt: skip
MODELS = [
    (("scoping", 4), ("exploring-evidence", 6), ("testing-change", 6)),
    (("plan", 2), ("act", 4), ("observe", 3), ("reflect", 2)),
]
HORIZON = timedelta(days=2)
T = TypeVar("T")


@dataclass
class SimProject:
    slug: str
    cadence: Cadence
    phases: list[tuple[str, date, date]]

    def phase_on(self, day: date) -> str | None:
        return next((key for key, first, last in self.phases if first <= day <= last), None)


@dataclass
class SimPerson:
    key: str
    zone: str
    pattern: WorkingPattern
    projects: list[SimProject]
    answer_rate: float
    slots: list[datetime] = field(default_factory=list)  # every prompt planned, sorted
    timeline: list[tuple[datetime, str]] = field(default_factory=list)  # (slot, key), sorted
    answers: dict[str, str] = field(default_factory=dict)
    spent: list[tuple[datetime, int]] = field(default_factory=list)  # what the budget counts
    answered: list[tuple[datetime, int]] = field(default_factory=list)  # (slot, seconds)


@dataclass
class Report:
    people: int
    days: int
    prompts: int = 0
    answered: int = 0
    reminders: int = 0
    max_reminders_per_prompt: int = 0
    mean_per_week: float = 0.0
    max_per_week: int = 0
    outside_working_hours: int = 0
    on_bank_holidays: int = 0
    during_leave: int = 0
    reminders_outside_working_hours: int = 0
    cap_breaches: int = 0
    same_prompt_twice_in_a_row: int = 0
    time_budget_minutes: int | None = None
    max_minutes_per_month: float = 0.0
    budget_breaches: int = 0  # person-months whose estimated answering time passed the budget
    seconds: float = 0.0
    # a hash of every (person, slot) planned: equal runs planned the very same instants
    fingerprint: str = ""

    def violations(self) -> int:
        return (
            self.outside_working_hours
            + self.on_bank_holidays
            + self.during_leave
            + self.reminders_outside_working_hours
            + self.cap_breaches
            + self.same_prompt_twice_in_a_row
            + self.budget_breaches
            + max(0, self.max_reminders_per_prompt - 1)
        )

    def lines(self) -> list[str]:
        return [
            f"people: {self.people}, days: {self.days}, prompts: {self.prompts}, "
            f"answered: {self.answered}, reminders: {self.reminders}",
            f"prompts per person per week: mean {self.mean_per_week:.2f}, max {self.max_per_week}",
            f"prompts outside working hours: {self.outside_working_hours}",
            f"prompts on Scottish bank holidays: {self.on_bank_holidays}",
            f"prompts during leave or a pause: {self.during_leave}",
            f"reminders per prompt: max {self.max_reminders_per_prompt}",
            f"reminders outside working hours: {self.reminders_outside_working_hours}",
            f"weekly-cap breaches: {self.cap_breaches}",
            f"same prompt twice in a row: {self.same_prompt_twice_in_a_row}",
            f"estimated answering minutes per person per month: max "
            f"{self.max_minutes_per_month:.1f}"
            + (
                f" (budget {self.time_budget_minutes}); time-budget breaches: "
                f"{self.budget_breaches}"
                if self.time_budget_minutes is not None
                else " (no time budget)"
            ),
        ]


def _pick(rng: random.Random, weighted: list[tuple[T, int]]) -> T:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def make_projects(rng: random.Random, start: date, end: date) -> list[SimProject]:
    projects = []
    for n, cadence in enumerate(CADENCES):
        model = MODELS[n % len(MODELS)]
        phases: list[tuple[str, date, date]] = []
        day = start - timedelta(days=rng.randrange(0, 21))
        while day <= end:
            for key, weeks in model:
                last = day + timedelta(weeks=weeks, days=-1)
                phases.append((key, day, last))
                day = last + timedelta(days=1)
            day += timedelta(days=rng.choice([0, 7, 14]))  # a break between cycles
        projects.append(SimProject(f"project-{n}", cadence, phases))
    return projects


def make_people(
    rng: random.Random, count: int, projects: list[SimProject], start: date, days: int
) -> list[SimPerson]:
    people = []
    for n in range(count):
        zone = _pick(rng, ZONES)
        working_days = _pick(rng, WEEKS)
        starts, ends = rng.choice(HOURS)
        pauses = []
        for _ in range(rng.randrange(0, 4)):  # leave
            first = start + timedelta(days=rng.randrange(0, max(1, days)))
            pauses.append((first, first + timedelta(days=rng.randrange(2, 15))))
        if rng.random() < 0.05:  # "pause until" from the start
            pauses.append((date.min, start + timedelta(days=rng.randrange(3, 40))))
        pattern = WorkingPattern(
            zone=ZoneInfo(zone),
            working_days=frozenset(working_days),
            starts=starts,
            ends=ends,
            pauses=tuple(sorted(pauses)),
        )
        mine = rng.sample(projects, 2 if rng.random() < 0.2 else 1)
        mine.sort(key=projects.index)  # planned in project order, as plan_once does
        people.append(SimPerson(f"sim-{n:04d}", zone, pattern, mine, rng.uniform(0.3, 0.9)))
    return people


def _window(person: SimPerson, start: datetime, end: datetime) -> list[datetime]:
    low = bisect.bisect_left(person.slots, start - timedelta(days=8))
    high = bisect.bisect_left(person.slots, end + timedelta(days=8))
    return person.slots[low:high]


def plan_steps(
    people: list[SimPerson],
    library: Library,
    start: datetime,
    end: datetime,
    step: timedelta,
    budget_seconds: int | None = None,
) -> Iterator[tuple[SimPerson, SimProject, datetime, str]]:
    """Plan as ``plan_once`` would, every ``step`` from ``start`` to ``end``; with a monthly
    time budget, each person's ``spent`` is what it counts (kept up to date by the caller)."""
    now = start
    while now < end:
        until = min(now + HORIZON, end)
        for person in people:
            for project in person.projects:
                seed = f"{person.key}:{project.slug}"
                taken = _window(person, now, until)
                slots = plan_slots(
                    project.cadence,
                    person.pattern,
                    [(first, last) for _, first, last in project.phases],
                    now,
                    until,
                    seed=seed,
                    taken=taken,
                )
                zone = person.pattern.zone
                for slot in within_budget(slots, zone, person.spent, budget_seconds, CAP):
                    phase = project.phase_on(slot.astimezone(person.pattern.zone).date())
                    before, after = neighbours(person.timeline, slot)
                    chosen = library.choose(
                        phase, [], [], before, person.answers, seed=f"{seed}:{slot}", avoid=after
                    )
                    bisect.insort(person.slots, slot)
                    bisect.insort(person.timeline, (slot, chosen.key))
                    source = library.carry_forward_sources().get(chosen.key)
                    if source is not None:
                        person.answers.pop(source, None)
                    yield person, project, slot, chosen.key
        now += step


def _working(moment: datetime, person: SimPerson, calendar: holiday_calendars.HolidayBase) -> bool:
    local = moment.astimezone(ZoneInfo(person.zone))
    p = person.pattern
    return (
        local.weekday() in p.working_days
        and p.starts <= local.time().replace(tzinfo=None) < p.ends
        and local.date() not in calendar
        and not any(first <= local.date() <= last for first, last in p.pauses)
    )


def generate(
    days: int, people: int, start: date, seed: int
) -> tuple[random.Random, list[SimProject], list[SimPerson]]:
    """The generated projects and people for a run (the same for the same arguments)."""
    rng = random.Random(seed)
    projects = make_projects(rng, start, start + timedelta(days=days))
    return rng, projects, make_people(rng, people, projects, start, days)


class Audit:
    """Checks each prompt as it is "sent", pretends a share are answered and the rest reminded,
    and sums it all up in a :class:`Report`."""

    def __init__(self, people: int, days: int, start: date, rng: random.Random) -> None:
        self.report = Report(people=people, days=days)
        self.rng = rng
        self.calendar = holiday_calendars.country_holidays(
            "GB", subdiv="SCT", years=range(start.year - 1, start.year + days // 365 + 2)
        )
        self.weeks: Counter[tuple[str, int, int]] = Counter()
        self.reminders: Counter[tuple[str, datetime]] = Counter()

    def prompt(self, person: SimPerson, project: SimProject, slot: datetime, key: str) -> bool:
        """Record one prompt; True when the (simulated) person answers it."""
        report = self.report
        report.prompts += 1
        local = slot.astimezone(ZoneInfo(person.zone))
        self.weeks[(person.key, *local.isocalendar()[:2])] += 1
        p = person.pattern
        if local.weekday() not in p.working_days or not p.starts <= local.time() < p.ends:
            report.outside_working_hours += 1
        if local.date() in self.calendar:
            report.on_bank_holidays += 1
        if any(first <= local.date() <= last for first, last in p.pauses):
            report.during_leave += 1
        if self.rng.random() < person.answer_rate:
            report.answered += 1
            return True
        remind = reminder_at(slot, project.cadence, p)
        if remind is not None:
            self.reminders[(person.key, slot)] += 1
            if not _working(remind, person, self.calendar):
                report.reminders_outside_working_hours += 1
        return False

    def finish(self, persons: list[SimPerson], began: float) -> Report:
        report = self.report
        digest = hashlib.sha256()
        for person in persons:  # in the order the person receives them
            digest.update(person.key.encode())
            for slot, _ in person.timeline:
                digest.update(slot.isoformat().encode())
            keys = [key for _, key in person.timeline]
            report.same_prompt_twice_in_a_row += sum(a == b for a, b in itertools.pairwise(keys))
        report.reminders = sum(self.reminders.values())
        report.max_reminders_per_prompt = max(self.reminders.values(), default=0)
        caps = {p.key: max(pr.cadence.weekly_cap for pr in p.projects) for p in persons}
        report.cap_breaches = sum(1 for (key, *_), n in self.weeks.items() if n > caps[key])
        report.max_per_week = max(self.weeks.values(), default=0)
        report.mean_per_week = report.prompts / max(1, report.people) / max(1.0, report.days / 7)
        months: Counter[tuple[str, int, int]] = Counter()
        for person in persons:
            for slot, cost in person.answered:
                local = slot.astimezone(person.pattern.zone)
                months[(person.key, local.year, local.month)] += cost
        report.max_minutes_per_month = max(months.values(), default=0) / 60
        if report.time_budget_minutes is not None:
            limit = report.time_budget_minutes * 60
            report.budget_breaches = sum(1 for total in months.values() if total > limit)
        report.fingerprint = digest.hexdigest()[:16]
        report.seconds = timer.perf_counter() - began
        return report


ANSWER_WORDS = (3, 12, 30, 60, 120)  # simulated written answers, from a tap-like line to a page


def simulated_cost(library: Library, key: str, salt: str) -> int:
    """The estimated seconds of a simulated answer to prompt ``key`` (by length and kind; the
    length drawn from ``salt``, so the run's other draws stay as they were)."""
    item = library.get(key)
    kind = item.kind if item is not None else "text"
    prompt = item.text if item is not None else ""
    if kind in ("scale", "choice"):
        return by_length(prompt, [Part(kind)])
    pick = hashlib.blake2b(salt.encode(), digest_size=2).digest()[0] % len(ANSWER_WORDS)
    words = " ".join(["word"] * ANSWER_WORDS[pick])
    return by_length(prompt, [Part(kind, words, 1 if kind == "evidence" else 0)])


def simulate(
    days: int,
    people: int,
    start: date,
    seed: int,
    step_hours: float = 6,
    time_budget_minutes: int | None = None,
) -> Report:
    """Plan ``days`` of prompts for ``people`` generated people from ``start``; the report.

    Each answered prompt costs its estimated time (``prompts.timecost``, by length and kind);
    with ``time_budget_minutes``, the planning keeps every person's month within it."""
    began = timer.perf_counter()
    rng, _, persons = generate(days, people, start, seed)
    library = load_library(None)
    audit = Audit(people, days, start, rng)
    begin = datetime.combine(start, time(0), tzinfo=UTC)
    finish = begin + timedelta(days=days)
    budget = time_budget_minutes * 60 if time_budget_minutes is not None else None
    for person, project, slot, key in plan_steps(
        persons, library, begin, finish, timedelta(hours=step_hours), budget
    ):
        if audit.prompt(person, project, slot, key):
            person.answers[key] = f"an answer to {key} on {slot.date().isoformat()}"
            cost = simulated_cost(library, key, f"{person.key}:{slot.isoformat()}")
            person.answered.append((slot, cost))
            person.spent.append((slot, cost))
    audit.report.time_budget_minutes = time_budget_minutes
    return audit.finish(persons, began)
