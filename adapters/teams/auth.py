"""The bot's own token: the client-credentials grant against the tenant's Entra ID endpoint.

The SDK would use MSAL for this, which is synchronous and, for an authority it does not know,
first asks login.microsoftonline.com to validate it; carbot instead makes the one documented
OAuth 2.0 call itself (async, on ``login_url``) and hands the SDK the token through its
``token`` option. The token is kept until five minutes before it expires.

:func:`check_credentials` is ``carbot teams check``: the same call, reported in plain words.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from adapters.base import DeliveryError
from adapters.errors import CredentialError
from adapters.teams.config import BOT_SCOPE, TeamsConfig

EARLY = 300.0  # seconds before expiry a token is renewed


@dataclass
class _Cached:
    value: str
    expires: float


async def request_token(
    client: httpx.AsyncClient, config: TeamsConfig, scope: str = BOT_SCOPE
) -> tuple[str, float]:
    """(access token, seconds it lasts). Raises :class:`CredentialError` when Entra ID says no,
    :class:`DeliveryError` (transient) when it cannot be reached or fails."""
    try:
        response = await client.post(
            config.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": config.app_id,
                "client_secret": config.app_secret,
                "scope": scope,
            },
            timeout=config.request_timeout,
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"Teams: the token endpoint did not answer ({exc!r})") from exc
    if response.status_code in (400, 401, 403):
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = body.get("error") if isinstance(body, dict) else None
        raise CredentialError(str(code or f"HTTP {response.status_code}"))
    if response.status_code != 200:
        raise DeliveryError(f"Teams: the token endpoint answered HTTP {response.status_code}")
    try:
        body = response.json()
        return str(body["access_token"]), float(body.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError) as exc:
        raise DeliveryError("Teams: the token endpoint's answer had no access token") from exc


class BotTokens:
    """The SDK's token provider: ``await tokens(scope, tenant_id)`` → an access token."""

    def __init__(self, config: TeamsConfig, client: httpx.AsyncClient) -> None:
        self._config = config
        self._client = client
        self._cached: dict[str, _Cached] = {}
        self._lock = asyncio.Lock()

    async def __call__(self, scope: str | list[str], tenant_id: str | None = None) -> str:
        try:
            return await self.get(scope if isinstance(scope, str) else " ".join(scope))
        except CredentialError as exc:
            # carbot's problem, not the person's: transient, so no identity is marked unreachable
            raise DeliveryError(refused(exc)) from exc

    async def get(self, scope: str = BOT_SCOPE) -> str:
        """A token for ``scope``, from the cache while it lasts. Raises :class:`CredentialError`
        when Entra ID refuses the credentials, :class:`DeliveryError` when it cannot answer."""
        async with self._lock:
            cached = self._cached.get(scope)
            if cached is not None and cached.expires > time.monotonic():
                return cached.value
            value, lasts = await request_token(self._client, self._config, scope)
            self._cached[scope] = _Cached(value, time.monotonic() + max(lasts - EARLY, 30.0))
            return value


def refused(exc: CredentialError) -> str:
    return (
        f"Teams: Entra ID refused the app's credentials ({exc}); "
        "check CARBOT_TEAMS_APP_ID, CARBOT_TEAMS_APP_SECRET and CARBOT_TEAMS_TENANT_ID"
    )


async def check_credentials(config: TeamsConfig) -> str | None:
    """None when Entra ID gives the app a bot token; otherwise what went wrong, in words."""
    async with httpx.AsyncClient() as client:
        try:
            await request_token(client, config)
        except CredentialError as exc:
            return f"Entra ID refused the credentials: {exc}"
        except DeliveryError as exc:
            return str(exc)
    return None
