"""Rows for engine tests: a partnership, a project in its exploring-evidence phase, people with
web chat identities and consent, and planned deliveries — made directly, without a study file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.services import Services
from storage.db import transaction
from storage.models import Delivery
from tests.support.world import (
    EXPLORING,
    Consent,
    add_consent,
    add_delivery,
    add_identity,
    add_person,
    add_project,
    phases,
)

# Tuesday 9 March 2027, 10:00 in Fife (GMT): a working morning, well clear of the clock change.
TUESDAY_MORNING = datetime(2027, 3, 9, 10, 0, tzinfo=UTC)
SCALE = [
    {"value": str(n), "label": label}
    for n, label in enumerate(["Not at all", "A little", "Somewhat", "Mostly", "Completely"], 1)
]


@dataclass
class World:
    project_id: int
    phase_id: int
    cycle_id: int
    people: list[int] = field(default_factory=list)
    identities: dict[int, int] = field(default_factory=dict)  # person id → web chat identity id


async def make_world(
    services: Services, *, people: int = 1, cadence: dict[str, Any] | None = None
) -> World:
    linked = TUESDAY_MORNING - timedelta(days=30)
    async with transaction(services.sessions) as session:
        made = await add_project(
            session,
            "fife-family-hub",
            "Family hub approach",
            partnership=("fife", "Fife"),
            cadence=cadence or {},
            cycle=("cycle-1", "Cycle 1", date(2027, 1, 4), date(2027, 6, 30)),
            phases=phases((EXPLORING, date(2027, 2, 15), date(2027, 4, 30))),
        )
        world = World(made.project.id, made.phases[0].id, made.cycle.id)
        for n in range(people):
            person = await add_person(
                session, f"person-{n}", f"P{n:04d}", f"Person {n}", projects=[made.project]
            )
            identity = await add_identity(session, person, "webchat", f"web-{n}", linked_at=linked)
            await add_consent(session, person, "webchat", Consent(linked))
            world.people.append(person.id)
            world.identities[person.id] = identity.id
    return world


async def plan(
    services: Services,
    world: World,
    person_id: int,
    due_at: datetime,
    *,
    kind: str = "scale",
    text: str = "How well did the drop-in work for families this week?",
) -> int:
    """A planned delivery, as the planner would insert it."""
    async with transaction(services.sessions) as session:
        delivery = await add_delivery(
            session,
            person_id,
            world.project_id,
            due_at,
            cycle_id=world.cycle_id,
            phase_id=world.phase_id,
            prompt_key="exploring.drop-in",
            prompt_kind=kind,
            prompt_text=text,
            prompt_options=SCALE if kind == "scale" else [],
        )
        return delivery.id


async def get(services: Services, delivery_id: int) -> Delivery:
    async with services.sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
        assert delivery is not None
        return delivery
