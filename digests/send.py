"""The weekly digest loop: ``send_due_digests(sessions, config, now) -> int``.

For every lead of every active project, and for every researcher (the cross-partnership
digest), work out the week that is due in the recipient's time zone; skip what the ledger says
is settled; then claim, build, render, send and record each digest (see :mod:`digests.ledger`).
Without SMTP settings the messages are written as ``.eml`` files to the outbox instead.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from adapters.errors import SendFailed
from digests import ledger, roster
from digests.config import DigestConfig
from digests.cross import CrossDigest, build_cross
from digests.data import WeeklyDigest, build_weekly
from digests.ledger import DigestKey
from digests.mail import Mailer, mail_domain, mailer_for
from digests.render import make_message, weekly_context
from digests.schedule import DigestSchedule, Week, schedule_for, weekly_period_due, zone
from storage.models import Project
from storage.queries import study_options, the_study

Sessions = async_sessionmaker[AsyncSession]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Due:
    """One digest whose moment has passed and that is not settled yet."""

    key: DigestKey
    person_id: int
    recipient_name: str
    email: str
    zone: ZoneInfo
    week: Week
    schedule: DigestSchedule
    project_id: int | None = None  # None: the cross-partnership digest

    @property
    def name(self) -> str:
        return f"{self.key.period}_{self.key.kind}_{self.key.scope}_{self.key.recipient}"


async def _study_scope(session: AsyncSession) -> str:
    study = await the_study(session)
    return f"study:{study.slug}" if study is not None and study.slug else "study:all"


def _usable(member: roster.MemberRow) -> bool:
    return bool(member.email)


async def due_digests(sessions: Sessions, config: DigestConfig, now: datetime) -> list[Due]:
    """Every lead and cross-partnership digest due at ``now`` and not yet settled.

    Reads only leads' and researchers' columns (:mod:`digests.roster`), never the participants."""
    default_zone = config.default_timezone
    candidates: list[Due] = []
    async with sessions() as session:
        options = await study_options(session)
        study_schedule = schedule_for(options)
        projects = {p.id: p for p in await roster.active_projects(session)}
        schedules = {p.id: schedule_for(options, p.digest) for p in projects.values()}
        members = await roster.members(session, ("lead", "researcher"))
        for member in members:
            project = projects[member.project_id]
            if member.role != "lead" or not _usable(member):
                continue
            schedule = schedules[project.id]
            tz = zone(member.timezone or project.timezone, default_zone)
            week = weekly_period_due(schedule, tz, now)
            if week is None:
                continue
            email = str(member.email)
            candidates.append(
                Due(
                    key=DigestKey("lead_weekly", email, f"project:{project.slug}", week.label),
                    person_id=member.person_id,
                    recipient_name=member.name,
                    email=email,
                    zone=tz,
                    week=week,
                    schedule=schedule,
                    project_id=project.id,
                )
            )
        scope = await _study_scope(session)
        seen: set[str] = set()
        for member in members:
            if member.role != "researcher" or not _usable(member):
                continue
            if str(member.email).lower() in seen:
                continue
            seen.add(str(member.email).lower())
            project = projects[member.project_id]
            tz = zone(member.timezone or project.timezone, default_zone)
            week = weekly_period_due(study_schedule, tz, now)
            if week is None:
                continue
            candidates.append(
                Due(
                    key=DigestKey("cross_partnership", str(member.email), scope, week.label),
                    person_id=member.person_id,
                    recipient_name=member.name,
                    email=str(member.email),
                    zone=tz,
                    week=week,
                    schedule=study_schedule,
                )
            )
        done = await ledger.settled(session, [c.key for c in candidates])
    return [c for c in candidates if c.key not in done]


BuiltCache = dict[tuple[int | None, str, str], "WeeklyDigest | CrossDigest"]


async def build(
    sessions: Sessions, config: DigestConfig, due: Due, cache: BuiltCache | None = None
) -> WeeklyDigest | CrossDigest:
    """The digest data for ``due``; recipients with the same scope, week and zone share it."""
    key = (due.project_id, due.week.label, due.zone.key)
    if cache is not None and key in cache:
        return cache[key]
    built = await _build(sessions, config, due)
    if cache is not None:
        cache[key] = built
    return built


async def _build(sessions: Sessions, config: DigestConfig, due: Due) -> WeeklyDigest | CrossDigest:
    public_url = config.public_url
    async with sessions() as session:
        if due.project_id is None:
            return await build_cross(session, due.week, due.zone, public_url=public_url)
        project = await session.get(
            Project, due.project_id, options=[selectinload(Project.partnership)]
        )
        if project is None:
            raise LookupError(f"project {due.project_id} is gone")
        return await build_weekly(
            session,
            project,
            due.week,
            due.zone,
            public_url=public_url,
            schedule=due.schedule,
            partnership_name=project.partnership.name,
        )


EMPTY_SKIPPED = "an empty week (nothing asked, nothing shared) and the schedule says skip"
INLINE_PHOTO_BYTES = 500 * 1024
INLINE_PHOTOS = 6
INLINE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")  # never SVG


def embed_photos(digest: WeeklyDigest, data_dir: Path, domain: str) -> list[tuple[str, bytes, str]]:
    """Inline images for the digest's small photos (``digest_inline_photos``); marks each
    embedded evidence item with its content id. Files outside the data directory are ignored."""
    root = Path(data_dir).resolve()
    related: list[tuple[str, bytes, str]] = []
    for item in digest.evidence:
        if len(related) >= INLINE_PHOTOS:
            break
        if item.kind != "photo" or item.content_type not in INLINE_TYPES:
            continue
        if item.size > INLINE_PHOTO_BYTES:
            continue
        path = (root / item.path).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            continue
        data = path.read_bytes()
        if len(data) > INLINE_PHOTO_BYTES:
            continue
        item.cid = f"evidence-{item.attachment_id}@{domain}"
        related.append((item.cid, data, item.content_type))
    return related


def render_digest(
    digest: WeeklyDigest | CrossDigest,
    due: Due,
    sender: str,
    message_id: str | None,
    related: list[tuple[str, bytes, str]] | None = None,
) -> Any:
    if isinstance(digest, WeeklyDigest):
        context = weekly_context(digest, recipient_name=due.recipient_name)
        return make_message(
            "weekly",
            due.email,
            context,
            sender=sender,
            message_id=message_id,
            related=related or (),
        )
    context = {"d": digest, "recipient_name": due.recipient_name}
    return make_message(
        "cross-partnership", due.email, context, sender=sender, message_id=message_id
    )


def _summary(digest: WeeklyDigest | CrossDigest) -> dict[str, Any]:
    if isinstance(digest, WeeklyDigest):
        return {
            "reflections": digest.shown_count,
            "held_back": digest.held_back + digest.aggregates_held_back,
            "evidence": len(digest.evidence),
            "response_rate": digest.engagement.rate,
            "empty": digest.is_empty,
        }
    return {"reflections": digest.total, "partnerships": len(digest.partnerships)}


async def send_one(
    sessions: Sessions,
    config: DigestConfig,
    due: Due,
    mailer: Mailer,
    now: datetime,
    cache: BuiltCache | None = None,
) -> bool:
    """Claim, build, send and record one digest. True when this call sent it.

    The claim comes first, so a digest that another worker holds (or has settled) is never
    built here; an empty week that the schedule skips is recorded ``skipped``, once."""
    digest_id = await ledger.ensure(sessions, due.key, due.person_id, now)
    attempt = await ledger.claim(sessions, digest_id, now, config.lease_seconds)
    if attempt is None:
        return False
    domain = mail_domain(config.mail_from)
    message_id = f"<carbot-digest-{digest_id}@{domain}>"
    try:
        digest = await build(sessions, config, due, cache)
        if digest.is_empty and due.schedule.empty_week == "skip":
            await ledger.mark_skipped(sessions, digest_id, attempt, EMPTY_SKIPPED, _summary(digest))
            log.info(
                "skipped the %s digest for %s %s: %s",
                due.key.kind,
                due.key.scope,
                due.key.period,
                EMPTY_SKIPPED,
                extra={"action": "digest_skipped"},
            )
            return False
        related = None
        if config.inline_photos and isinstance(digest, WeeklyDigest):
            related = await asyncio.to_thread(embed_photos, digest, config.data_dir, domain)
        message = render_digest(digest, due, config.mail_from, message_id, related)
        await mailer.send(message, f"{due.name}_{digest_id}")
    except SendFailed as exc:
        await ledger.mark_failed(
            sessions,
            digest_id,
            attempt,
            now,
            str(exc),
            permanent=exc.permanent,
            max_attempts=config.max_attempts,
        )
        return False
    except Exception as exc:  # a bug or bad data must not stop the other digests
        log.exception("building digest %s failed", digest_id)
        await ledger.mark_failed(
            sessions,
            digest_id,
            attempt,
            now,
            f"{type(exc).__name__}: {exc}",
            permanent=False,
            max_attempts=config.max_attempts,
        )
        return False
    sent = await ledger.mark_sent(sessions, digest_id, attempt, now, message_id, _summary(digest))
    log.info(
        "sent %s digest for %s %s",
        due.key.kind,
        due.key.scope,
        due.key.period,
        extra={"action": "digest_sent"},
    )
    return sent


async def send_due_digests(
    sessions: Sessions, config: DigestConfig, now: datetime, *, mailer: Mailer | None = None
) -> int:
    """Send every lead and cross-partnership digest that is due at ``now``; how many were sent.

    Safe to call every minute, from several workers, and after a crash."""
    if now.tzinfo is None:
        raise ValueError("send_due_digests needs a timezone-aware now")
    mailer = mailer or mailer_for(config)
    sent = 0
    cache: BuiltCache = {}
    for due in await due_digests(sessions, config, now):
        sent += await send_one(sessions, config, due, mailer, now, cache)
    return sent
