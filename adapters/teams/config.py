"""What the Teams channel needs to know, and the Microsoft endpoints it talks to.

Every endpoint is a setting, so that tests point the real SDK at fakes on loopback: the Bot
Connector service (``service_url``, where proactive messages go), the Entra ID token endpoint
(``login_url``, where the app's client credentials buy a bot token) and the Bot Framework
OpenID metadata (``openid_url``, whose signing keys verify every inbound request).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from microsoft_teams.api.auth.cloud_environment import PUBLIC, CloudEnvironment, with_overrides

CHANNEL = "teams"
# The Bot Framework token scope a bot asks Entra ID for before it calls the Bot Connector.
BOT_SCOPE = PUBLIC.bot_scope


@dataclass(frozen=True)
class TeamsConfig:
    """Built from carbot's settings by ``bot.channels_teams``."""

    app_id: str
    app_secret: str
    tenant_id: str
    # Microsoft's global Bot Connector address for proactive messages in the commercial cloud.
    service_url: str = "https://smba.trafficmanager.net/teams/"
    login_url: str = "https://login.microsoftonline.com"
    openid_url: str = PUBLIC.openid_metadata_url
    token_issuer: str = PUBLIC.token_issuer
    max_upload_bytes: int = 20 * 1024 * 1024
    request_timeout: float = 15.0
    link_by_email: bool = False

    @property
    def token_url(self) -> str:
        """The tenant's OAuth 2.0 token endpoint (client-credentials grant)."""
        return f"{self.login_url.rstrip('/')}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def jwks_url(self) -> str:
        """The signing keys the OpenID metadata names (the SDK reads ``…/keys`` beside it)."""
        return re.sub(r"/openidconfiguration$", "/keys", self.openid_url)

    def cloud(self) -> CloudEnvironment:
        """The SDK's cloud description with carbot's endpoints in place of Microsoft's."""
        return with_overrides(
            PUBLIC,
            login_endpoint=self.login_url.rstrip("/"),
            openid_metadata_url=self.openid_url,
            token_issuer=self.token_issuer,
        )
