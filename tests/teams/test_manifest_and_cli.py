"""``carbot teams manifest`` writes a package that validates against Microsoft's Teams manifest
schema (a copy in tests/teams/specs); ``carbot teams check`` asks the (fake) token endpoint."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from PIL import Image

from adapters.teams.manifest import manifest
from bot.channels import missing_channel_settings
from bot.cli import main
from tests.conftest import make_settings
from tests.fakes.teams_connector import APP_ID, APP_SECRET, TENANT, FakeConnector

SCHEMA = json.loads((Path(__file__).parent / "specs" / "MicrosoftTeams.schema.json").read_text())


def problems(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    return [error.message for error in validator.iter_errors(document)]


def test_the_manifest_validates_against_the_teams_schema_it_names() -> None:
    document = manifest(APP_ID, "https://carbot.example.org")

    assert problems(document) == []
    assert document["manifestVersion"] == SCHEMA["properties"]["manifestVersion"]["const"]
    [bot] = document["bots"]
    assert bot["botId"] == APP_ID and bot["scopes"] == ["personal"] and bot["supportsFiles"]


def test_the_schema_copy_refuses_a_broken_manifest() -> None:
    document = manifest(APP_ID, "https://carbot.example.org")
    del document["icons"]
    document["bots"][0]["scopes"] = ["everywhere"]

    assert len(problems(document)) >= 2


def test_carbot_teams_manifest_writes_a_zip_with_the_manifest_and_both_icons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARBOT_TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("CARBOT_PUBLIC_URL", "https://carbot.example.org")
    out = tmp_path / "carbot.zip"

    result = CliRunner().invoke(main, ["teams", "manifest", "-o", str(out)])

    assert result.exit_code == 0, result.output
    package = zipfile.ZipFile(out)
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert problems(json.loads(package.read("manifest.json"))) == []
    color = Image.open(io.BytesIO(package.read("color.png")))
    outline = Image.open(io.BytesIO(package.read("outline.png")))
    assert color.size == (192, 192) and outline.size == (32, 32)
    assert outline.getpixel((0, 0))[3] == 0  # the outline icon is white on transparent


def test_carbot_teams_manifest_refuses_a_public_url_that_is_not_https(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CARBOT_TEAMS_APP_ID", APP_ID)

    result = CliRunner().invoke(main, ["teams", "manifest", "--public-url", "http://x.test"])

    assert result.exit_code == 2 and "HTTPS" in result.output


def _teams_env(monkeypatch: pytest.MonkeyPatch, connector: FakeConnector, secret: str) -> None:
    monkeypatch.setenv("CARBOT_TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("CARBOT_TEAMS_APP_SECRET", secret)
    monkeypatch.setenv("CARBOT_TEAMS_TENANT_ID", TENANT)
    monkeypatch.setenv("CARBOT_TEAMS_LOGIN_URL", connector.login_url)


def test_carbot_teams_check_says_the_credentials_work(
    connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    _teams_env(monkeypatch, connector, APP_SECRET)

    result = CliRunner().invoke(main, ["teams", "check"])

    assert result.exit_code == 0, result.output
    assert "credentials work" in result.output
    [call] = [c for c in connector.calls if c.path.endswith("/oauth2/v2.0/token")]
    assert call.path == f"/login/{TENANT}/oauth2/v2.0/token"
    assert call.body["grant_type"] == "client_credentials"


def test_carbot_teams_check_says_when_the_secret_is_wrong(
    connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    _teams_env(monkeypatch, connector, "wrong")

    result = CliRunner().invoke(main, ["teams", "check"])

    assert result.exit_code == 1
    assert "refused" in result.output and "invalid_client" in result.output


def test_a_half_configured_teams_channel_is_named_before_carbot_runs(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, teams_app_id=APP_ID, teams_app_secret=APP_SECRET)

    assert missing_channel_settings(settings) == [
        "Teams needs CARBOT_TEAMS_TENANT_ID as well as the other CARBOT_TEAMS_* settings"
    ]
    full = make_settings(
        tmp_path, teams_app_id=APP_ID, teams_app_secret=APP_SECRET, teams_tenant_id=TENANT
    )
    assert missing_channel_settings(full) == []


async def test_carbot_runs_the_teams_channel_when_its_three_settings_are_set(
    tmp_path: Path,
) -> None:
    from bot.channels import build_channels
    from bot.services import Services

    settings = make_settings(
        tmp_path, teams_app_id=APP_ID, teams_app_secret=APP_SECRET, teams_tenant_id=TENANT
    )
    services = Services.from_settings(settings)
    try:
        channels = build_channels(services)
        assert [c.name for c in channels] == ["webchat", "teams"]
        assert list(channels[1].mounts()) == ["/teams"]
    finally:
        await services.close()
    plain = Services.from_settings(make_settings(tmp_path))
    try:
        assert [c.name for c in build_channels(plain)] == ["webchat"]
    finally:
        await plain.close()
