"""``carbot people``: sign-up codes, erasure and subject-access exports."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.errors import NotFound, UsageError
from bot.cli import with_services
from bot.core.onboarding import issue_link_code
from bot.privacy.access import write_export
from bot.privacy.erasure import erase_person
from bot.privacy.forget import forget_reflection
from bot.services import Services
from storage.db import transaction
from storage.models import CHANNELS, AuditLog, Person

log = logging.getLogger(__name__)


async def active_person(session: AsyncSession, key: str) -> Person:
    person = await session.scalar(select(Person).where(Person.key == key))
    if person is None:
        raise click.ClickException(f"No person with the key {key!r} (see the study file).")
    if not person.active:
        raise click.ClickException(f"{key!r} is no longer active in the study.")
    return person


@click.group()
def people() -> None:
    """Sign people up to chat channels; erase or export one person's data."""


@people.command("link-code")
@click.argument("person_key")
@click.option(
    "--channel",
    type=click.Choice(CHANNELS),
    default=None,
    help="Only accept the code on this channel (default: any channel).",
)
@click.option(
    "--days", type=click.IntRange(1, 90), default=7, show_default=True, help="Days it stays valid."
)
@with_services
async def link_code(services: Services, person_key: str, channel: str | None, days: int) -> None:
    """Make a one-time sign-up code for PERSON_KEY.

    The person sends it to the bot: on Telegram by opening the printed link (or `/start CODE`),
    on Slack with `/carbot link CODE` or a DM saying `link CODE`. Only a hash of the code is
    stored; it works once, within --days.
    """
    now = datetime.now(UTC)
    async with transaction(services.sessions) as session:
        person = await active_person(session, person_key)
        code = await issue_link_code(
            session, person, channel=channel, ttl=timedelta(days=days), now=now
        )
        session.add(AuditLog(at=now, actor="cli", action="people.link_code", target=person.key))
    click.echo(f"Sign-up code for {person.name}: {code}  (valid {days} days, works once)")
    username = services.settings.telegram_bot_username
    if username and channel in (None, "telegram"):
        click.echo(f"Telegram: https://t.me/{username.lstrip('@')}?start={code}")
    if channel in (None, "slack"):
        click.echo(f"Slack: send the carbot app `link {code}`")


@people.command("erase")
@click.argument("person_key")
@click.option("--reason", required=True, help="Why (kept in the audit log; no names).")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@with_services
async def erase(services: Services, person_key: str, reason: str, dry_run: bool) -> None:
    """Delete everything PERSON_KEY shared and everything that names them, then check.

    Reflections (private ones too), evidence files, codings and memos on them, deliveries,
    channel identities and web chat links, link codes, inbound events, conversation state,
    search-index entries, digests sent to them; outbox emails quoting them lose their body.
    One audit line is kept: study code, when, who, why, counts. Afterwards every table and
    file is scanned; if anything of theirs remains this exits 1 and lists it. Places where
    others wrote about them (researchers' memos) are listed for their authors to edit.
    """
    try:
        report = await erase_person(
            services,
            person_key,
            actor="cli",
            reason=reason,
            now=datetime.now(UTC),
            dry_run=dry_run,
        )
    except (NotFound, UsageError) as error:
        raise click.ClickException(str(error)) from error
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)
    if not dry_run:
        click.echo(
            f"Remove {person_key!r} from the study file too, or the next `carbot study load` "
            "adds them again as a new person (with nothing of the old data)."
        )


@people.command("erase-reflection")
@click.argument("reflection_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--reason", required=True, help="Why (kept in the audit log; no names).")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@with_services
async def erase_reflection(
    services: Services, reflection_id: int, reason: str, dry_run: bool
) -> None:
    """Delete one reflection on its author's request (after the 24 hours of `undo`).

    It goes with its evidence files, codings and memos; outbox digest copies quoting it lose
    their text. One audit line is kept: the reflection's number, the author's study code, who,
    why, counts.
    """
    try:
        done = await forget_reflection(
            services,
            reflection_id,
            actor="cli",
            reason=reason,
            now=datetime.now(UTC),
            dry_run=dry_run,
        )
    except UsageError as error:
        raise click.ClickException(str(error)) from error
    verb = "Would erase" if dry_run else "Erased"
    click.echo(
        f"{verb} reflection {done.reflection_id} ({done.study_code}): {done.evidence_files} "
        f"evidence file(s), {done.codings} coding(s), {done.memos} memo(s)"
        + ("." if dry_run else f"; {done.outbox_cut} outbox digest(s) lost their text.")
    )


@people.command("export")
@click.argument("person_key")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The .zip file to write (readable only by you).",
)
@with_services
async def export_person(services: Services, person_key: str, output: Path) -> None:
    """Write everything carbot holds about PERSON_KEY to a zip (a subject-access request).

    One JSON file per kind of record, private reflections included, their evidence files, and
    a README.txt explaining each file. Give it to the person only; it is recorded in the audit
    log.
    """
    now = datetime.now(UTC)
    async with transaction(services.sessions) as session:
        person = await session.scalar(select(Person).where(Person.key == person_key))
        if person is None:
            raise click.ClickException(f"No person with the key {person_key!r}.")
        counts = await write_export(session, person, Path(services.settings.data_dir), output, now)
        session.add(AuditLog(at=now, actor="cli", action="people.export", target=person.study_code))
    held = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    click.echo(f"Wrote {output} for {person.study_code}: {held or 'no answers'}.")
