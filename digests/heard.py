"""'What we heard': member checking, built in.

At the end of each week (default Friday 15:00 in each participant's zone) every participant gets
one short chat message, through their active channel identity, with the themes and a few quotes
from their project's week — only from ``team`` and ``team_anonymous`` reflections, with the
small-n rule applied and no names at all — and two buttons: "That's right"
(``heard:<digest_id>:yes``) and "Not quite" (``heard:<digest_id>:no``; the conversation core asks
what is missing and stores it as a ``feedback`` reflection with that ``digest_id``). Each message
is recorded once in the Digest table (kind ``what_we_heard``, recipient ``person:<id>``).

This module decides who is due, writes the text and keeps the ledger; the chat itself is the
bot's (``bot.engine.heard`` hands in a ``deliver`` function that talks to the channels).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from adapters.errors import DeliveryError
from digests import ledger, roster
from digests.audience import DigestKind, unlinkable_order
from digests.config import DigestConfig
from digests.data import WeeklyDigest, build_weekly
from digests.ledger import DigestKey
from digests.render import render_text
from digests.schedule import DigestSchedule, Week, heard_period_due, schedule_for, zone
from digests.send import Sessions
from storage.models import Project
from storage.queries import study_options

log = logging.getLogger(__name__)

KIND: DigestKind = "what_we_heard"
MAX_QUOTES = 3
QUOTE_CHARS = 160


@dataclass(frozen=True)
class HeardDue:
    """One participant's "what we heard" for one week, and the chat identity it goes to."""

    key: DigestKey
    person_id: int
    project_id: int
    identity_id: int
    external_id: str
    workspace: str | None
    channel: str
    zone: ZoneInfo
    week: Week
    schedule: DigestSchedule


Deliver = Callable[[HeardDue, str, int], Awaitable[str]]
"""``deliver(due, text, digest_id)`` sends ``text`` with its two answer buttons ("That's right",
"Not quite": the app builds them) through ``due.channel`` and returns the sent message's
reference; raises :class:`DeliveryError`."""


def _pick_identity(usable: list[roster.IdentityRow]) -> roster.IdentityRow | None:
    """The preferred identity, else the most recently linked (the first by id on a tie)."""
    usable = sorted(
        usable, key=lambda i: (not i.preferred, -(i.linked_at.timestamp() if i.linked_at else 0))
    )
    return usable[0] if usable else None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def heard_text(digest: WeeklyDigest) -> str | None:
    """The chat message for one project's week, or None when nothing was heard."""
    items = [i for s in digest.sections for g in s.groups for i in g.items]
    texts = [i for i in items if i.text.strip()]
    if not texts and not digest.plans:
        return None
    themed = {t.term for t in digest.themes}
    ordered = unlinkable_order(texts, key=lambda i: i.id, salt=f"heard:{digest.week.label}")
    ordered.sort(key=lambda i: -sum(term in i.text.lower() for term in themed))
    quotes = [_short(i.text) for i in ordered[:MAX_QUOTES]]
    plan = _short(digest.plans[0].text) if digest.plans else None
    return render_text(
        "heard.txt",
        {
            "d": digest,
            "count": len(items) + len(digest.plans),
            "quotes": quotes,
            "plan": plan,
        },
    ).strip()


async def heard_due(
    sessions: Sessions, config: DigestConfig, channels: Collection[str], now: datetime
) -> list[HeardDue]:
    """Every participant reachable through one of ``channels`` whose message is due and unsent.

    Reads plain columns, a page of each project's participants at a time (see
    :mod:`digests.roster`), and asks for identities only for those whose moment has passed."""
    default_zone = config.default_timezone
    candidates: list[HeardDue] = []
    async with sessions() as session:
        options = await study_options(session)
        projects = await roster.active_projects(session)
    for project in projects:
        schedule = schedule_for(options, project.digest)
        async for page in roster.member_pages(sessions, project.id, ("participant",)):
            due: list[tuple[roster.MemberRow, ZoneInfo, Week]] = []
            for member in page:
                tz = zone(member.timezone or project.timezone, default_zone)
                week = heard_period_due(schedule, tz, now)
                if week is not None:
                    due.append((member, tz, week))
            if not due:
                continue
            async with sessions() as session:
                identities = await roster.active_identities(
                    session, [m.person_id for m, _, _ in due], channels
                )
            for member, tz, week in due:
                identity = _pick_identity(identities.get(member.person_id, []))
                if identity is None:
                    continue
                candidates.append(
                    HeardDue(
                        key=DigestKey(
                            KIND,
                            f"person:{member.person_id}",
                            f"project:{project.slug}",
                            week.label,
                        ),
                        person_id=member.person_id,
                        project_id=project.id,
                        identity_id=identity.id,
                        external_id=identity.external_id,
                        workspace=identity.workspace or None,
                        channel=identity.channel,
                        zone=tz,
                        week=week,
                        schedule=schedule,
                    )
                )
    if not candidates:
        return []
    async with sessions() as session:
        done = await ledger.settled(session, [c.key for c in candidates])
    return [c for c in candidates if c.key not in done]


async def send_what_we_heard(
    sessions: Sessions,
    config: DigestConfig,
    channels: Collection[str],
    deliver: Deliver,
    now: datetime,
) -> int:
    """Send each participant's "what we heard" that is due at ``now`` through ``deliver``; how
    many were sent. Each message is claimed in the ledger first, so it goes out once."""
    built: dict[tuple[int, str, str], str | None] = {}
    sent = 0
    for due in await heard_due(sessions, config, channels, now):
        cache_key = (due.project_id, due.week.label, due.zone.key)
        if cache_key not in built:
            async with sessions() as session:
                project = await session.get(Project, due.project_id)
                if project is None:
                    continue
                digest = await build_weekly(
                    session,
                    project,
                    due.week,
                    due.zone,
                    public_url=config.public_url,
                    schedule=due.schedule,
                    kind=KIND,
                )
            built[cache_key] = heard_text(digest)
        text = built[cache_key]
        if text is None:
            continue
        digest_id = await ledger.ensure(sessions, due.key, due.person_id, now)
        attempt = await ledger.claim(sessions, digest_id, now, config.lease_seconds)
        if attempt is None:
            continue
        try:
            ref = await deliver(due, text, digest_id)
        except Exception as exc:  # a channel bug must not stop the other messages
            if not isinstance(exc, DeliveryError):
                log.exception("sending what-we-heard %s through %s failed", digest_id, due.channel)
            await ledger.mark_failed(
                sessions,
                digest_id,
                attempt,
                now,
                f"{due.channel}: {exc}",
                permanent=isinstance(exc, DeliveryError) and exc.permanent,
                max_attempts=config.max_attempts,
            )
            continue
        if await ledger.mark_sent(sessions, digest_id, attempt, now, ref, {"channel": due.channel}):
            sent += 1
    return sent
