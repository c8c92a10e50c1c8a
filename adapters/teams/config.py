"""What the Teams channel needs to know, and the Microsoft endpoints it talks to.

Every endpoint is a setting, so that tests point the real SDK at fakes on loopback: the Bot
Connector service (``service_url``, where proactive messages go), the Entra ID token endpoint
(``login_url``, where the app's client credentials buy a bot token) and the Bot Framework
OpenID metadata (``openid_url``, whose signing keys verify every inbound request).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the SDK is imported when the channel is built, not when carbot starts
    from microsoft_teams.api.auth.cloud_environment import CloudEnvironment

CHANNEL = "teams"
# The Bot Framework token scope a bot asks Entra ID for before it calls the Bot Connector.
BOT_SCOPE = "https://api.botframework.com/.default"


@dataclass(frozen=True)
class TeamsConfig:
    """Built from carbot's settings by ``bot.channels.teams``."""

    app_id: str
    app_secret: str
    tenant_id: str
    # Microsoft's global Bot Connector address for proactive messages in the commercial cloud.
    service_url: str = "https://smba.trafficmanager.net/teams/"
    login_url: str = "https://login.microsoftonline.com"
    openid_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    token_issuer: str = "https://api.botframework.com"
    max_upload_bytes: int = 20 * 1024 * 1024
    request_timeout: float = 15.0
    link_by_email: bool = False

    def problems(self) -> list[str]:
        """What this configuration lacks, one sentence each (empty: all is well)."""
        given = {
            "CARBOT_TEAMS_APP_ID": self.app_id,
            "CARBOT_TEAMS_APP_SECRET": self.app_secret,
            "CARBOT_TEAMS_TENANT_ID": self.tenant_id,
        }
        missing = [name for name, value in given.items() if not value.strip()]
        if not missing:
            return []
        return [f"Teams needs {', '.join(missing)} as well as the other CARBOT_TEAMS_* settings"]

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
        from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides

        return with_overrides(
            PUBLIC,
            login_endpoint=self.login_url.rstrip("/"),
            openid_metadata_url=self.openid_url,
            token_issuer=self.token_issuer,
        )
