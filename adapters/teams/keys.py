"""The Bot Framework's published signing keys, read without blocking the event loop.

The SDK verifies each token with PyJWT's ``PyJWKClient``, which fetches the key set with a
blocking call — and fetches it again for every token naming a key it has not seen, so a stream
of forged tokens with made-up key ids would stall carbot. :class:`SigningKeys` reads the OpenID
metadata and its ``jwks_uri`` with httpx instead, keeps the key ids for ``lifespan`` seconds,
looks again for an unknown id at most once per ``recheck`` seconds, and the gate refuses a
token whose key id is not published before the SDK sees it. The SDK still does the full check.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx
import jwt

log = logging.getLogger(__name__)


class SigningKeys:
    def __init__(
        self,
        openid_url: str,
        client: httpx.AsyncClient,
        *,
        lifespan: float = 300.0,
        recheck: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._openid_url = openid_url
        self._client = client
        self._lifespan = lifespan
        self._recheck = recheck
        self._clock = clock
        self._kids: frozenset[str] = frozenset()
        self._fetched = -float("inf")
        self._lock = asyncio.Lock()

    async def publishes(self, token: str) -> bool:
        """Whether the key ``token`` names (its ``kid``) is one the Bot Framework publishes."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return False
        if not isinstance(kid, str) or not kid:
            return False
        age = self._clock() - self._fetched
        if kid in self._kids and age < self._lifespan:
            return True
        if kid not in self._kids and age < self._recheck:
            return False
        async with self._lock:
            if self._clock() - self._fetched >= min(self._recheck, self._lifespan):
                await self._refresh()
        return kid in self._kids

    async def _refresh(self) -> None:
        try:
            metadata = (await self._client.get(self._openid_url)).raise_for_status().json()
            keys = (await self._client.get(str(metadata["jwks_uri"]))).raise_for_status().json()
            self._kids = frozenset(
                str(key["kid"])
                for key in keys.get("keys", [])
                if isinstance(key, dict) and "kid" in key
            )
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("could not read the Bot Framework signing keys: %r", exc)
        self._fetched = self._clock()
