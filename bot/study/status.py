"""Where the study stands at a moment: each project's phase, who takes part, this week's
deliveries, and how digests went. ``carbot status`` prints it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from storage.models import (
    DELIVERY_STATUSES,
    ROLES,
    Cycle,
    Delivery,
    Digest,
    Membership,
    Partnership,
    Person,
    Phase,
    Project,
)
from storage.queries import the_study


@dataclass(frozen=True)
class Standing:
    """A project's place in its cycles on one day (in its partnership's zone)."""

    state: str  # "in_phase", "between", "not_started", "finished", "no_cycles"
    cycle: str = ""
    phase: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    days_left: int = 0  # whole days after today up to and including ends_on

    def describe(self) -> str:
        if self.state == "in_phase" and self.ends_on is not None:
            left = (
                "ends today"
                if self.days_left == 0
                else f"{self.days_left} day{'s' if self.days_left != 1 else ''} left"
            )
            return f"{self.cycle} · {self.phase}, until {self.ends_on:%a %d %b %Y} ({left})"
        if self.state in ("between", "not_started") and self.starts_on is not None:
            gap = "between phases" if self.state == "between" else "not started"
            return f"{gap}; {self.cycle} · {self.phase} starts {self.starts_on:%a %d %b %Y}"
        if self.state == "finished" and self.ends_on is not None:
            return f"finished: the last phase ended {self.ends_on:%a %d %b %Y}"
        return "no cycles yet"


def standing(phases: list[tuple[str, str, date, date]], today: date) -> Standing:
    """``phases``: (cycle name, phase name, starts_on, ends_on), in order."""
    if not phases:
        return Standing("no_cycles")
    for index, (cycle, phase, starts_on, ends_on) in enumerate(phases):
        if starts_on <= today <= ends_on:
            return Standing("in_phase", cycle, phase, starts_on, ends_on, (ends_on - today).days)
        if today < starts_on:
            state = "not_started" if index == 0 else "between"
            return Standing(state, cycle, phase, starts_on, ends_on)
    return Standing("finished", ends_on=phases[-1][3])


@dataclass
class ProjectStatus:
    slug: str
    name: str
    standing: Standing
    deliveries: Counter[str] = field(default_factory=Counter)


@dataclass
class PartnershipStatus:
    name: str
    timezone: str
    today: date
    projects: list[ProjectStatus] = field(default_factory=list)


@dataclass
class FailedDigest:
    kind: str
    recipient: str
    scope: str
    period: str
    attempts: int
    last_error: str


@dataclass
class StatusReport:
    at: datetime
    has_schema: bool = True
    study: str | None = None
    week: str = ""
    partnerships: list[PartnershipStatus] = field(default_factory=list)
    roles: Counter[str] = field(default_factory=Counter)
    people: Counter[str] = field(default_factory=Counter)
    deliveries: Counter[str] = field(default_factory=Counter)
    digests: Counter[str] = field(default_factory=Counter)
    failed_digests: list[FailedDigest] = field(default_factory=list)
    retention: list[str] = field(default_factory=list)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


async def has_schema(services: Services) -> bool:
    async with services.engine.connect() as connection:
        return await connection.run_sync(lambda sync: inspect(sync).has_table("studies"))


async def study_status(services: Services, at: datetime) -> StatusReport:
    """The study's state at ``at`` (an aware datetime)."""
    report = StatusReport(at=at.astimezone(UTC))
    if not await has_schema(services):
        report.has_schema = False
        return report
    async with services.sessions() as session:
        study = await the_study(session)
        if study is None:
            return report
        report.study = study.name
        zone = ZoneInfo(str(study.options.get("timezone") or services.settings.default_timezone))
        local_day = at.astimezone(zone).date()
        monday = local_day - timedelta(days=local_day.weekday())
        week_start = datetime.combine(monday, time(0), zone).astimezone(UTC)
        week_end = datetime.combine(monday + timedelta(days=7), time(0), zone).astimezone(UTC)
        report.week = iso_week(local_day)
        per_project = await _deliveries(session, week_start, week_end)
        for counts in per_project.values():
            report.deliveries.update(counts)
        await _projects(session, report, at, per_project)
        await _people(session, report, at, zone)
        for status, count in await session.execute(
            select(Digest.status, func.count()).group_by(Digest.status)
        ):
            report.digests[status] = count
        failed = await session.scalars(
            select(Digest)
            .where(Digest.status == "failed")
            .order_by(Digest.created_at.desc(), Digest.id.desc())
            .limit(20)
        )
        report.failed_digests = [
            FailedDigest(d.kind, d.recipient, d.scope, d.period, d.attempts, d.last_error or "")
            for d in failed
        ]
    from bot.engine.retention import plan_lines, preview

    report.retention = plan_lines(await preview(services, at.astimezone(UTC)))
    return report


async def _deliveries(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[int, Counter[str]]:
    rows = await session.execute(
        select(Delivery.project_id, Delivery.status, func.count())
        .where(Delivery.slot >= start, Delivery.slot < end)
        .group_by(Delivery.project_id, Delivery.status)
    )
    counts: dict[int, Counter[str]] = {}
    for project_id, status, count in rows:
        counts.setdefault(project_id, Counter())[status] = count
    return counts


async def _projects(
    session: AsyncSession,
    report: StatusReport,
    at: datetime,
    deliveries: dict[int, Counter[str]],
) -> None:
    phases: dict[int, list[tuple[str, str, date, date]]] = {}
    rows = await session.execute(
        select(Cycle.project_id, Cycle.name, Phase.name, Phase.starts_on, Phase.ends_on)
        .join(Phase, Phase.cycle_id == Cycle.id)
        .order_by(Cycle.project_id, Phase.starts_on)
    )
    for project_id, cycle, phase, starts_on, ends_on in rows:
        phases.setdefault(project_id, []).append((cycle, phase, starts_on, ends_on))
    partnerships = await session.scalars(
        select(Partnership).where(Partnership.active.is_(True)).order_by(Partnership.name)
    )
    for partnership in partnerships:
        today = at.astimezone(ZoneInfo(partnership.timezone)).date()
        entry = PartnershipStatus(partnership.name, partnership.timezone, today)
        projects = await session.scalars(
            select(Project)
            .where(Project.partnership_id == partnership.id, Project.active.is_(True))
            .order_by(Project.name)
        )
        for project in projects:
            entry.projects.append(
                ProjectStatus(
                    project.slug,
                    project.name,
                    standing(phases.get(project.id, []), today),
                    deliveries.get(project.id, Counter()),
                )
            )
        report.partnerships.append(entry)


async def _people(
    session: AsyncSession, report: StatusReport, at: datetime, zone: ZoneInfo
) -> None:
    rows = await session.execute(
        select(Membership.role, func.count(func.distinct(Membership.person_id)))
        .join(Person, Person.id == Membership.person_id)
        .join(Project, Project.id == Membership.project_id)
        .where(Membership.active.is_(True), Person.active.is_(True), Project.active.is_(True))
        .group_by(Membership.role)
    )
    for role, count in rows:
        report.roles[role] = count
    for person in await session.scalars(select(Person)):
        if not person.active:
            report.people["removed from the study"] += 1
            continue
        report.people["active"] += 1
        today = at.astimezone(ZoneInfo(person.timezone) if person.timezone else zone).date()
        if person.withdrawn_at is not None:
            report.people["withdrawn"] += 1
        elif (person.paused_until and person.paused_until >= today) or any(
            date.fromisoformat(p["from"]) <= today <= date.fromisoformat(p["until"])
            for p in person.pauses or []
        ):
            report.people["paused or on leave today"] += 1


def status_lines(report: StatusReport) -> list[str]:
    """``carbot status``, as lines of text."""
    if not report.has_schema:
        return [
            "The database has no tables yet. Run `carbot db upgrade`, then load a study with "
            "`carbot study load FILE` (try examples/wws-demo.yaml)."
        ]
    if report.study is None:
        return [
            "No study is loaded yet. Load one with `carbot study load FILE` "
            "(try `carbot study load examples/wws-demo.yaml`)."
        ]
    lines = [f"{report.study} — status at {report.at:%Y-%m-%d %H:%M} UTC", ""]
    for partnership in report.partnerships:
        lines.append(f"{partnership.name} ({partnership.timezone}, {partnership.today:%a %d %b})")
        if not partnership.projects:
            lines.append("  no active projects")
        for project in partnership.projects:
            lines.append(f"  {project.name}: {project.standing.describe()}")
            if project.deliveries:
                lines.append(f"    this week: {_counts(project.deliveries)}")
    lines.append("")
    roles = ", ".join(
        f"{report.roles[role]} {role}{'s' if report.roles[role] != 1 else ''}" for role in ROLES
    )
    lines.append(f"People: {report.people['active']} active ({roles})")
    for label in ("paused or on leave today", "withdrawn", "removed from the study"):
        if report.people[label]:
            lines.append(f"  {report.people[label]} {label}")
    lines.append("")
    total = sum(report.deliveries.values())
    lines.append(
        f"Deliveries this week ({report.week}): "
        + (_counts(report.deliveries) if total else "none yet")
    )
    lines.append(
        "Digests: "
        + ", ".join(
            f"{report.digests[s]} {s}" for s in ("sent", "skipped", "failed", "pending", "sending")
        )
    )
    for failed in report.failed_digests:
        lines.append(
            f"  failed: {failed.kind} to {failed.recipient} for {failed.scope}, {failed.period}"
            f" ({failed.attempts} attempt{'s' if failed.attempts != 1 else ''}):"
            f" {failed.last_error or 'no error recorded'}"
        )
    if report.retention:
        lines.append("")
        lines.extend(report.retention)
    return lines


def _counts(counts: Counter[str]) -> str:
    return " · ".join(f"{counts[s]} {s}" for s in DELIVERY_STATUSES if counts[s])
