"""Who may see which reflection, and how its author is shown to them.

The rules, applied to pages, search results, evidence files and exports alike:

- ``private`` reflections are seen by nobody here (only their author, through the chat channel);
- an admin sees every other reflection, authors shown by study code;
- a researcher sees the reflections of the projects they hold a researcher membership on,
  audiences ``researchers``, ``team_anonymous`` and ``team``, authors shown by study code;
- a lead sees only their own projects, only ``team`` (author named) and ``team_anonymous``
  (author not shown at all) reflections, and never study codes; of the ``team_anonymous`` ones
  only those their weekly digest shows (the small-n rule, :mod:`bot.review.anonymity`), without
  time or channel, by a handle instead of their id, in an order that follows neither.

A reflection someone may not see does not exist for them: the web app answers 404, not 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, case, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.review.anonymity import handle, released_to_lead
from storage.models import Membership, Person, Reflection, User

LEAD_AUDIENCES = ("team", "team_anonymous")
RESEARCHER_AUDIENCES = ("researchers", "team_anonymous", "team")
ADMIN_AUDIENCES = RESEARCHER_AUDIENCES

Role = Literal["admin", "researcher", "lead"]


@dataclass(frozen=True)
class Viewer:
    """A signed-in user (or the CLI) with the projects each role gives them."""

    user_id: int | None
    email: str
    is_admin: bool = False
    researcher_projects: frozenset[int] = field(default_factory=frozenset)
    lead_projects: frozenset[int] = field(default_factory=frozenset)
    timezone: str = "Europe/London"
    # The team_anonymous reflections of lead-only projects that the lead's digest shows.
    released: frozenset[int] = field(default_factory=frozenset)
    handle_key: bytes = b""

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else "cli"

    @property
    def roles(self) -> list[Role]:
        found: list[Role] = []
        if self.is_admin:
            found.append("admin")
        if self.researcher_projects:
            found.append("researcher")
        if self.lead_projects:
            found.append("lead")
        return found

    @property
    def can_code(self) -> bool:
        """Coding and memos are the researchers' (and admins') work."""
        return self.is_admin or bool(self.researcher_projects)

    def sees_study_codes_for(self, project_id: int | None) -> bool:
        return self.is_admin or (project_id is not None and project_id in self.researcher_projects)

    @property
    def masked_projects(self) -> frozenset[int]:
        """The projects whose ``team_anonymous`` reflections this viewer sees as a lead does."""
        if self.is_admin:
            return frozenset()
        return self.lead_projects - self.researcher_projects

    def masks(self, reflection: Reflection) -> bool:
        """Whether ``reflection`` is shown to this viewer without id, time or channel."""
        return (
            reflection.audience == "team_anonymous"
            and reflection.project_id in self.masked_projects
        )

    def handle(self, reflection_id: int) -> str:
        return handle(self.handle_key, self.actor, reflection_id)

    def handles(self) -> dict[str, int]:
        """Every released reflection by its handle."""
        return {self.handle(i): i for i in self.released}

    def unlinkable_ranks(self) -> dict[int, int]:
        """A position for each released reflection: the order of their handles."""
        ordered = sorted(self.released, key=self.handle)
        return {reflection_id: rank for rank, reflection_id in enumerate(ordered, start=1)}

    def project_ids(self) -> frozenset[int] | None:
        """The projects this viewer may look at; None means all of them (admin)."""
        if self.is_admin:
            return None
        return self.researcher_projects | self.lead_projects


def cli_viewer(timezone: str = "Europe/London") -> Viewer:
    """The command line acts as an admin would (everything except ``private``)."""
    return Viewer(user_id=None, email="cli", is_admin=True, timezone=timezone)


async def viewer_for(
    session: AsyncSession, user: User, default_timezone: str, handle_key: bytes = b""
) -> Viewer:
    researcher: set[int] = set()
    lead: set[int] = set()
    zone = default_timezone
    own_zone: str | None = None
    if user.person_id is not None:
        rows = await session.execute(
            select(Membership.project_id, Membership.role).where(
                Membership.person_id == user.person_id, Membership.active.is_(True)
            )
        )
        for project_id, role in rows:
            if role == "researcher":
                researcher.add(project_id)
            elif role == "lead":
                lead.add(project_id)
        person = await session.get(Person, user.person_id)
        if person is not None and person.timezone:
            zone = own_zone = person.timezone
    shown = (
        await released_to_lead(session, lead - researcher, own_zone, default_timezone)
        if not user.is_admin
        else frozenset()
    )
    return Viewer(
        user_id=user.id,
        email=user.email,
        is_admin=user.is_admin,
        researcher_projects=frozenset(researcher),
        lead_projects=frozenset(lead),
        timezone=zone,
        released=shown,
        handle_key=handle_key,
    )


def visible(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Reflection`: the rows ``viewer`` may see."""
    if viewer.is_admin:
        return Reflection.audience.in_(ADMIN_AUDIENCES)
    clauses: list[ColumnElement[bool]] = []
    if viewer.researcher_projects:
        clauses.append(
            Reflection.project_id.in_(sorted(viewer.researcher_projects))
            & Reflection.audience.in_(RESEARCHER_AUDIENCES)
        )
    if viewer.lead_projects:
        clauses.append(
            Reflection.project_id.in_(sorted(viewer.lead_projects))
            & (Reflection.audience == "team")
        )
    if viewer.masked_projects and viewer.released:
        clauses.append(
            Reflection.project_id.in_(sorted(viewer.masked_projects))
            & (Reflection.audience == "team_anonymous")
            & Reflection.id.in_(sorted(viewer.released))
        )
    if not clauses:
        return false()
    return or_(*clauses)


def may_see(viewer: Viewer, reflection: Reflection) -> bool:
    """The same rule as :func:`visible`, for one loaded reflection."""
    if reflection.audience == "private":
        return False
    if viewer.is_admin:
        return True
    project = reflection.project_id
    if project in viewer.researcher_projects and reflection.audience in RESEARCHER_AUDIENCES:
        return True
    if project not in viewer.lead_projects:
        return False
    return reflection.audience == "team" or (
        reflection.audience == "team_anonymous" and reflection.id in viewer.released
    )


def masked(viewer: Viewer) -> ColumnElement[bool] | None:
    """A WHERE clause on :class:`Reflection`: the rows shown to ``viewer`` as a lead sees
    anonymous ones (None when there are none)."""
    if not viewer.masked_projects or not viewer.released:
        return None
    return Reflection.project_id.in_(sorted(viewer.masked_projects)) & (
        Reflection.audience == "team_anonymous"
    )


def unlinkable_rank(viewer: Viewer) -> ColumnElement[int] | None:
    """An ORDER BY term putting the viewer's masked reflections in handle order, after the rest."""
    ranks = viewer.unlinkable_ranks()
    if not ranks:
        return None
    return case(ranks, value=Reflection.id, else_=0)


def author_label(viewer: Viewer, reflection: Reflection, person: Person) -> str | None:
    """How the author is shown: a study code, a name (``team``, to a lead), or None."""
    if viewer.sees_study_codes_for(reflection.project_id):
        return person.study_code
    if reflection.audience == "team":
        return person.name
    return None
