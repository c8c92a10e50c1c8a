"""Sign-in for the review workspace: argon2 passwords, signed session cookies, CSRF tokens,
an optional TOTP second factor, and backoff then lockout after repeated failures.

- Sessions are an ``itsdangerous`` signed cookie holding the user id and a fingerprint of the
  password hash, so resetting a password ends every session made with the old one.
- CSRF: each browser gets a random ``carbot_csrf`` cookie; every form carries that value signed
  with the server key, and a POST whose token does not match its cookie is refused (403).
- After ``BACKOFF_AFTER`` failures in a row, sign-in pauses for 30 s, doubling with each further
  failure up to 15 minutes; after ``LOCKOUT_AFTER`` failures the account is locked for a day, or
  until ``carbot user reset``.
"""

from __future__ import annotations

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
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, User

logger = logging.getLogger(__name__)

SESSION_COOKIE = "carbot_review"
CSRF_COOKIE = "carbot_csrf"
SESSION_MAX_AGE = 12 * 3600
BACKOFF_AFTER = 3
LOCKOUT_AFTER = 10
BACKOFF_START = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
LOCKOUT = timedelta(days=1)

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    return secrets.token_urlsafe(12)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="carbot review")


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


class Signer:
    """Signs session cookies and CSRF tokens with the server's key."""

    def __init__(self, secret_key: str) -> None:
        self._sessions = URLSafeTimedSerializer(secret_key, salt="carbot-review-session")
        self._csrf = URLSafeTimedSerializer(secret_key, salt="carbot-review-csrf")

    def session_cookie(self, user: User) -> str:
        return self._sessions.dumps({"uid": user.id, "fp": _fingerprint(user)})

    def session_user_id(self, cookie: str | None) -> tuple[int, str] | None:
        if not cookie:
            return None
        try:
            data = self._sessions.loads(cookie, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
            return None
        return data["uid"], str(data.get("fp", ""))

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


async def user_for_session(
    session: AsyncSession, signer: Signer, cookie: str | None
) -> User | None:
    found = signer.session_user_id(cookie)
    if found is None:
        return None
    user = await session.get(User, found[0])
    if user is None or not user.active or not hmac.compare_digest(_fingerprint(user), found[1]):
        return None
    return user


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    message: str = ""


FAILED = "That email, password or code did not work. Check them and try again."
PAUSED = "Too many failed attempts: sign-in is paused for this account. Try again later."


def _pause_after(failures: int) -> timedelta | None:
    if failures >= LOCKOUT_AFTER:
        return LOCKOUT
    if failures >= BACKOFF_AFTER:
        return min(BACKOFF_START * 2 ** (failures - BACKOFF_AFTER), BACKOFF_MAX)
    return None


async def sign_in(
    session: AsyncSession,
    email: str,
    password: str,
    code: str,
    now: datetime,
) -> SignInResult:
    """Check a sign-in attempt, record it in the audit log, and apply backoff on failure."""
    user = (
        await session.execute(select(User).where(func.lower(User.email) == email.strip().lower()))
    ).scalar_one_or_none()
    if user is None or not user.active:
        check_password(None, password)  # the same work as for a real account
        session.add(AuditLog(actor="anonymous", action="sign_in_failed", target=email[:320]))
        return SignInResult(None, FAILED)
    if user.locked_until is not None and user.locked_until > now:
        session.add(AuditLog(actor=f"user:{user.id}", action="sign_in_paused", target=user.email))
        return SignInResult(None, PAUSED)
    ok = check_password(user.password_hash, password)
    if ok and user.totp_secret:
        ok = pyotp.TOTP(user.totp_secret).verify(code.strip(), valid_window=1)
    if not ok:
        user.failed_logins += 1
        pause = _pause_after(user.failed_logins)
        user.locked_until = now + pause if pause else None
        session.add(
            AuditLog(
                actor=f"user:{user.id}",
                action="sign_in_failed",
                target=user.email,
                details={"failed_logins": user.failed_logins},
            )
        )
        logger.info("sign-in failed", extra={"action": "sign_in_failed", "user_id": user.id})
        return SignInResult(None, PAUSED if pause else FAILED)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(AuditLog(actor=f"user:{user.id}", action="sign_in", target=user.email))
    return SignInResult(user)
