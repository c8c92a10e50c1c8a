"""Sign-in for the review workspace: argon2 passwords, signed session cookies, CSRF tokens,
an optional TOTP second factor, and backoff then lockout after repeated failures.

- Sessions live on the server (``review_sessions``); the ``itsdangerous`` signed cookie holds
  only a random token. Every request finds its row, checks it has not expired, and that the
  account is still enabled with the same role. Signing out deletes the row; ``carbot user
  reset``, ``disable`` and ``role`` delete all of an account's rows, so a copied cookie stops
  working at once.
- CSRF: each browser gets a random ``carbot_csrf`` cookie; every form carries that value signed
  with the server key, and a POST whose token does not match its cookie is refused (403).
- Sign-in takes the same time whether or not the address has an account, and repeated failures
  are throttled per address and per client (:mod:`bot.review.throttle`) — never a lock-out a
  stranger could cause; only an admin shuts an account (``carbot user disable``).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.review import throttle
from storage.models import AuditLog, ReviewSession, User

logger = logging.getLogger(__name__)

SESSION_COOKIE = "carbot_review"
CSRF_COOKIE = "carbot_csrf"
SESSION_MAX_AGE = 12 * 3600

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """What an address with no usable account is checked against. Made on the first sign-in,
    not on import: argon2 holds 64 MB while it hashes, and every ``carbot run`` imports this
    module whether or not anyone signs in."""
    return _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    dummy = _dummy_hash()  # made before either branch, so the first sign-ins cost the same
    try:
        return _hasher.verify(password_hash or dummy, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    return secrets.token_urlsafe(12)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="carbot review")


def _session_id(token: str) -> str:
    """The row key of a session: the database never holds a token a cookie could be made from."""
    return hashlib.sha256(token.encode()).hexdigest()


class Signer:
    """Signs session cookies and CSRF tokens with the server's key."""

    def __init__(self, secret_key: str) -> None:
        self._sessions = URLSafeTimedSerializer(secret_key, salt="carbot-review-session")
        self._csrf = URLSafeTimedSerializer(secret_key, salt="carbot-review-csrf")

    def session_cookie(self, token: str) -> str:
        return self._sessions.dumps({"sid": token})

    def session_token(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            data = self._sessions.loads(cookie, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
            return None
        return str(data["sid"])

    def csrf_token(self, browser_secret: str) -> str:
        return self._csrf.dumps(browser_secret)

    def csrf_ok(self, browser_secret: str | None, token: str | None) -> bool:
        if not browser_secret or not token:
            return False
        try:
            value = self._csrf.loads(token, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return False
        return isinstance(value, str) and hmac.compare_digest(value, browser_secret)


async def start_session(session: AsyncSession, user: User, now: datetime) -> str:
    """A new server-side session for ``user``; returns the token its cookie carries."""
    await session.execute(delete(ReviewSession).where(ReviewSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        ReviewSession(
            id=_session_id(token),
            user_id=user.id,
            is_admin=user.is_admin,
            created_at=now,
            expires_at=now + timedelta(seconds=SESSION_MAX_AGE),
        )
    )
    return token


async def end_session(session: AsyncSession, signer: Signer, cookie: str | None) -> None:
    """Sign-out: the cookie's session no longer exists, wherever a copy of the cookie is."""
    token = signer.session_token(cookie)
    if token is not None:
        await session.execute(delete(ReviewSession).where(ReviewSession.id == _session_id(token)))


async def end_sessions(session: AsyncSession, user_id: int) -> int:
    """End every session of one account (reset, disable, role change); returns how many."""
    result = await session.execute(delete(ReviewSession).where(ReviewSession.user_id == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def user_for_session(
    session: AsyncSession, signer: Signer, cookie: str | None, now: datetime
) -> User | None:
    """The account a cookie signs in, if its session still exists, has not expired, and the
    account is still enabled with the role it had when the session began."""
    token = signer.session_token(cookie)
    if token is None:
        return None
    row = await session.get(ReviewSession, _session_id(token))
    if row is None or row.expires_at <= now:
        return None
    user = await session.get(User, row.user_id)
    if user is None or not user.active or user.is_admin != row.is_admin:
        return None
    return user


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    message: str = ""
    retry_after: timedelta | None = None  # set when sign-in is throttled (HTTP 429)


FAILED = "That email, password or code did not work. Check them and try again."


def _throttled(wait: timedelta) -> str:
    return f"Too many failed sign-ins. Try again in {throttle.try_again_in(wait)}."


async def sign_in(
    session: AsyncSession,
    email: str,
    password: str,
    code: str,
    now: datetime,
    client: str = "",
) -> SignInResult:
    """Check a sign-in attempt from ``client`` (its IP address), record it in the audit log,
    and throttle repeated failures (:mod:`bot.review.throttle`).

    A known, an unknown and a disabled address take the same work: one query, one argon2
    verification (of a dummy hash when there is no usable account), the same writes."""
    email = email.strip()[:320]
    wait = await throttle.waiting(session, email, client, now)
    if wait is not None:
        session.add(AuditLog(actor="anonymous", action="sign_in_throttled", target=email))
        return SignInResult(None, _throttled(wait), wait)
    user = (
        await session.execute(select(User).where(func.lower(User.email) == email.lower()))
    ).scalar_one_or_none()
    usable = user is not None and user.active
    # in a thread: argon2 takes a noticeable moment, and the other requests go on meanwhile
    ok = await asyncio.to_thread(
        check_password, user.password_hash if usable and user else None, password
    )
    if ok and user is not None and user.totp_secret:
        ok = pyotp.TOTP(user.totp_secret).verify(code.strip(), valid_window=1)
    if not ok or user is None:
        wait = await throttle.record_failure(session, email, client, now)
        actor = f"user:{user.id}" if usable and user else "anonymous"
        session.add(AuditLog(actor=actor, action="sign_in_failed", target=email))
        logger.info("sign-in failed", extra={"action": "sign_in_failed"})
        return SignInResult(None, _throttled(wait) if wait else FAILED, wait)
    await throttle.forget_address(session, email)
    user.last_login_at = now
    session.add(AuditLog(actor=f"user:{user.id}", action="sign_in", target=user.email))
    return SignInResult(user)
