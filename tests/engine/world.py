"""Rows for engine tests: a partnership, a project in its exploring-evidence phase, people with
web chat identities and consent, and planned deliveries — made directly, without a study file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.services import Services
from storage.db import transaction
from storage.models import (
    ChannelIdentity,
    ConsentRecord,
    Cycle,
    Delivery,
    Membership,
    Partnership,
    Person,
    Phase,
    Project,
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
    async with transaction(services.sessions) as session:
        partnership = Partnership(slug="fife", name="Fife", timezone="Europe/London")
        project = Project(
            partnership=partnership,
            slug="fife-family-hub",
            name="Family hub approach",
            cadence=cadence or {},
        )
        cycle = Cycle(
            project=project,
            key="cycle-1",
            name="Cycle 1",
            starts_on=date(2027, 1, 4),
            ends_on=date(2027, 6, 30),
        )
        phase = Phase(
            cycle=cycle,
            key="exploring-evidence",
            name="Exploring evidence",
            starts_on=date(2027, 2, 15),
            ends_on=date(2027, 4, 30),
        )
        session.add_all([partnership, project, cycle, phase])
        await session.flush()
        world = World(project_id=project.id, phase_id=phase.id, cycle_id=cycle.id)
        for n in range(people):
            person = Person(key=f"person-{n}", study_code=f"P{n:04d}", name=f"Person {n}")
            session.add(person)
            await session.flush()
            session.add(Membership(person_id=person.id, project_id=project.id, role="participant"))
            identity = ChannelIdentity(
                person_id=person.id,
                channel="webchat",
                external_id=f"web-{n}",
                linked_at=TUESDAY_MORNING - timedelta(days=30),
            )
            session.add(identity)
            session.add(
                ConsentRecord(
                    person_id=person.id,
                    version="1",
                    text_sha256="0" * 64,
                    channel="webchat",
                    given_at=TUESDAY_MORNING - timedelta(days=30),
                )
            )
            await session.flush()
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
        delivery = Delivery(
            person_id=person_id,
            project_id=world.project_id,
            slot=due_at,
            due_at=due_at,
            cycle_id=world.cycle_id,
            phase_id=world.phase_id,
            prompt_key="exploring.drop-in",
            prompt_kind=kind,
            prompt_text=text,
            prompt_options=SCALE if kind == "scale" else [],
        )
        session.add(delivery)
        await session.flush()
        return delivery.id


async def get(services: Services, delivery_id: int) -> Delivery:
    async with services.sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
        assert delivery is not None
        return delivery
