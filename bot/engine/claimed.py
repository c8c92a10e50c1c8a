"""The rows a claimed batch of deliveries needs, read at once: each delivery with its person,
project and phase; each person's identities on the running channels; and who must consent again
before being prompted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from adapters.base import Channel
from bot.core.people import study_options
from storage.models import ChannelIdentity, ConsentRecord, Delivery, Person, Project


@dataclass
class Loaded:
    delivery: Delivery
    person: Person
    project: Project


async def load_batch(session: AsyncSession, delivery_ids: list[int]) -> dict[int, Loaded]:
    """The claimed deliveries with their person, project and phase, in a handful of queries."""
    deliveries = await session.scalars(
        select(Delivery)
        .where(Delivery.id.in_(delivery_ids))
        .options(
            selectinload(Delivery.person),
            selectinload(Delivery.project).selectinload(Project.partnership),
            selectinload(Delivery.phase),
        )
    )
    return {d.id: Loaded(d, d.person, d.project) for d in deliveries}


async def reachable_identities(
    session: AsyncSession, person_ids: set[int], channels: Mapping[str, Channel]
) -> dict[int, list[ChannelIdentity]]:
    """Each person's active identities on running channels, best first: the preferred one,
    then the most recently linked."""
    found: dict[int, list[ChannelIdentity]] = {}
    if not person_ids or not channels:
        return found
    rows = await session.scalars(
        select(ChannelIdentity)
        .where(
            ChannelIdentity.person_id.in_(person_ids),
            ChannelIdentity.status == "active",
            ChannelIdentity.channel.in_(list(channels)),
        )
        .order_by(
            ChannelIdentity.person_id,
            ChannelIdentity.preferred.desc(),
            ChannelIdentity.linked_at.desc().nulls_last(),
            ChannelIdentity.id.desc(),
        )
    )
    for identity in rows:
        found.setdefault(identity.person_id, []).append(identity)
    return found


async def outdated_consents(
    session: AsyncSession, person_ids: set[int]
) -> dict[int, ConsentRecord]:
    """Of ``person_ids``, those whose newest kept consent is to an earlier version than the
    study's current one (they must be asked again first), with that consent — for a whole batch
    in two queries, as :func:`bot.core.onboarding.outdated_consent` decides for one person."""
    consent = (await study_options(session)).get("consent")
    if not person_ids or not (isinstance(consent, dict) and consent.get("text")):
        return {}  # no study consent: any consent kept counts
    version = str(consent.get("version") or "1")
    kept = [ConsentRecord.person_id.in_(person_ids), ConsentRecord.withdrawn_at.is_(None)]
    current = set(
        await session.scalars(
            select(ConsentRecord.person_id).where(*kept, ConsentRecord.version == version)
        )
    )
    found: dict[int, ConsentRecord] = {}
    rows = await session.scalars(
        select(ConsentRecord)
        .where(*kept, ConsentRecord.person_id.not_in(current))
        .order_by(ConsentRecord.given_at.desc(), ConsentRecord.id.desc())
    )
    for record in rows:
        found.setdefault(record.person_id, record)
    return found
