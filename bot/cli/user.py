"""``carbot user``: web accounts for researchers, leads and admins of the review workspace."""

from __future__ import annotations

import logging
import sys

import click
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import with_services
from bot.review.auth import end_sessions, hash_password, new_password, new_totp_secret, totp_uri
from bot.review.throttle import forget_address
from bot.services import Services
from storage.db import transaction
from storage.models import AuditLog, Membership, Person, User

logger = logging.getLogger(__name__)

ROLES = ("researcher", "lead", "admin")


@click.group()
def user() -> None:
    """Add review workspace accounts, reset their passwords, change their role, disable them."""


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password to set, and whether it was made up here (so it must be printed)."""
    if not from_stdin:
        return new_password(), True
    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 10:
        raise click.ClickException("The password on standard input needs at least 10 characters.")
    return password, False


async def _person(session: AsyncSession, email: str, key: str | None) -> Person | None:
    if key is not None:
        person = (
            await session.execute(select(Person).where(Person.key == key))
        ).scalar_one_or_none()
        if person is None:
            raise click.ClickException(f"No person with key {key!r} in the study.")
        return person
    found = (
        (await session.execute(select(Person).where(func.lower(Person.email) == email.lower())))
        .scalars()
        .all()
    )
    return found[0] if len(found) == 1 else None


def _signed_in_how(services: Services, email: str, password: str, show: bool) -> None:
    click.echo(f"Sign in at {services.settings.public_url.rstrip('/')}/review/sign-in")
    click.echo(f"  email:    {email}")
    if show:
        click.echo(f"  password: {password}")


def _totp(secret: str, email: str) -> None:
    click.echo("Second factor: add this to an authenticator app (or type the secret):")
    click.echo(f"  {totp_uri(secret, email)}")
    click.echo(f"  secret: {secret}")


@user.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account is for.")
@click.option(
    "--person",
    "person_key",
    metavar="KEY",
    help="The study file's person this account belongs to (default: the person with this email).",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of making one up and printing it.",
)
@click.option("--totp", is_flag=True, help="Require a six-digit code from an authenticator app.")
@with_services
async def add(
    services: Services,
    email: str,
    role: str,
    person_key: str | None,
    password_stdin: bool,
    totp: bool,
) -> None:
    """Add an account and print how to sign in.

    Researchers and leads see the projects their person holds a researcher or lead membership
    on (from the study file); admins see every project.
    """
    email = email.strip()
    if "@" not in email:
        raise click.ClickException(f"{email!r} does not look like an email address.")
    password, show = _password(password_stdin)
    secret = new_totp_secret() if totp else None
    async with transaction(services.sessions) as session:
        taken = await session.execute(
            select(User.id).where(func.lower(User.email) == email.lower())
        )
        if taken.first() is not None:
            raise click.ClickException(
                f"There is already an account for {email}; use `carbot user reset`."
            )
        person = await _person(session, email, person_key)
        if role != "admin" and person is None:
            raise click.ClickException(f"A {role} account needs a person: give --person KEY.")
        if role != "admin" and person is not None:
            memberships = await session.execute(
                select(Membership.id).where(
                    Membership.person_id == person.id, Membership.role == role
                )
            )
            if memberships.first() is None:
                click.echo(
                    f"Note: {person.key} is not a {role} on any project yet, so the "
                    "account will see nothing until the study file says so.",
                    err=True,
                )
        account = User(
            email=email,
            person_id=person.id if person else None,
            is_admin=role == "admin",
            password_hash=hash_password(password),
            totp_secret=secret,
        )
        session.add(account)
        await session.flush()
        session.add(
            AuditLog(
                actor="cli",
                action="user_added",
                target=email,
                details={"role": role, "person": person.key if person else None},
            )
        )
    logger.info("review account added", extra={"action": "user_added", "role": role})
    click.echo(f"Added {role} account {email}" + (f" for {person.key}." if person else "."))
    _signed_in_how(services, email, password, show)
    if secret:
        _totp(secret, email)


@user.command("reset")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@click.option(
    "--totp/--no-totp",
    default=None,
    help="Set up a new second factor, or remove it (default: leave it as it is).",
)
@with_services
async def reset(services: Services, email: str, password_stdin: bool, totp: bool | None) -> None:
    """New password; enables, unthrottles, signs out.

    The account is enabled again, its sign-in throttle lifted, and every session it had ends.
    """
    password, show = _password(password_stdin)
    secret: str | None = None
    async with transaction(services.sessions) as session:
        account = (
            await session.execute(select(User).where(func.lower(User.email) == email.lower()))
        ).scalar_one_or_none()
        if account is None:
            raise click.ClickException(f"No account for {email}.")
        account.password_hash = hash_password(password)
        account.active = True
        await forget_address(session, account.email)
        if totp is True:
            secret = account.totp_secret = new_totp_secret()
        elif totp is False:
            account.totp_secret = None
        ended = await _end_sessions_noted(session, account, "user_reset")
        email = account.email
    click.echo(f"Reset {email}: new password, enabled, sign-in throttle lifted, {_ended(ended)}.")
    _signed_in_how(services, email, password, show)
    if secret:
        _totp(secret, email)


def _ended(count: int) -> str:
    return f"{count} session(s) ended" if count else "no session was open"


async def _account(session: AsyncSession, email: str) -> User:
    account = (
        await session.execute(select(User).where(func.lower(User.email) == email.strip().lower()))
    ).scalar_one_or_none()
    if account is None:
        raise click.ClickException(f"No account for {email}.")
    return account


async def _end_sessions_noted(
    session: AsyncSession, account: User, action: str, **details: object
) -> int:
    """End the account's sessions and write the audit line of ``action``; how many ended."""
    ended = await end_sessions(session, account.id)
    session.add(
        AuditLog(
            actor="cli",
            action=action,
            target=account.email,
            details={**details, "sessions_ended": ended},
        )
    )
    return ended


@user.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
@click.option(
    "--person",
    "person_key",
    metavar="KEY",
    help="The study file's person the account belongs to (default: keep it, or find it by email).",
)
@with_services
async def set_role(services: Services, email: str, role: str, person_key: str | None) -> None:
    """Change what an account is for; its sessions end.

    It signs in again with the new role. A researcher or lead sees what their person's
    memberships in the study file give them.
    """
    async with transaction(services.sessions) as session:
        account = await _account(session, email)
        person = await _person(session, account.email, person_key) if person_key else None
        if person is None and account.person_id is None and role != "admin":
            person = await _person(session, account.email, None)
            if person is None:
                raise click.ClickException(f"A {role} account needs a person: give --person KEY.")
        if person is not None:
            account.person_id = person.id
        account.is_admin = role == "admin"
        ended = await _end_sessions_noted(session, account, "user_role", role=role)
        email = account.email
    logger.info("review account role changed", extra={"action": "user_role", "role": role})
    click.echo(f"{email} is now a {role} account; {_ended(ended)}.")


@user.command("disable")
@click.argument("email")
@with_services
async def disable(services: Services, email: str) -> None:
    """Stop an account signing in; its sessions end at once.

    Its history (codes, memos, the audit log) stays; `carbot user enable` lets it back in.
    """
    async with transaction(services.sessions) as session:
        account = await _account(session, email)
        account.active = False
        ended = await _end_sessions_noted(session, account, "user_disabled")
        email = account.email
    logger.info("review account disabled", extra={"action": "user_disabled"})
    click.echo(f"Disabled {email}; {_ended(ended)}.")


@user.command("enable")
@click.argument("email")
@with_services
async def enable(services: Services, email: str) -> None:
    """Let a disabled account sign in again (old password)."""
    async with transaction(services.sessions) as session:
        account = await _account(session, email)
        account.active = True
        await forget_address(session, account.email)
        session.add(AuditLog(actor="cli", action="user_enabled", target=account.email))
        email = account.email
    logger.info("review account enabled", extra={"action": "user_enabled"})
    click.echo(f"Enabled {email}: it can sign in again.")
