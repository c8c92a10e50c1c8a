"""The app manifest asks for exactly what the adapter uses; `carbot slack manifest` prints it."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from adapters.slack.scopes import (
    APP_METHOD_SCOPES,
    BOT_METHOD_SCOPES,
    EVENT_SCOPES,
    granted_scopes,
    manifest,
    missing_scopes,
    subscribed_events,
    unused_scopes,
)
from bot.cli import main


def test_every_method_in_the_table_is_allowed_by_a_scope_in_the_manifest() -> None:
    for method in (*BOT_METHOD_SCOPES, *APP_METHOD_SCOPES):
        assert missing_scopes(method) == frozenset(), method


def test_a_method_outside_the_table_is_reported_as_unknown() -> None:
    assert missing_scopes("chat.delete") is None
    assert missing_scopes("users.list") is None


def test_the_manifest_grants_no_scope_the_adapter_does_not_use() -> None:
    assert unused_scopes() == frozenset()


def test_the_manifest_subscribes_to_exactly_the_events_the_adapter_listens_to() -> None:
    assert subscribed_events() == frozenset(EVENT_SCOPES)
    for event, scopes in EVENT_SCOPES.items():
        assert scopes <= granted_scopes(), event


def test_the_manifest_has_the_slash_command_the_app_home_and_socket_mode() -> None:
    data = manifest()
    [command] = data["features"]["slash_commands"]
    assert command["command"] == "/carbot"
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert data["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["settings"]["interactivity"]["is_enabled"] is True


def test_carbot_slack_manifest_prints_the_socket_mode_manifest() -> None:
    result = CliRunner().invoke(main, ["slack", "manifest"])

    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.output) == manifest()


def test_carbot_slack_manifest_fills_in_the_request_urls_for_http_mode() -> None:
    result = CliRunner().invoke(
        main, ["slack", "manifest", "--mode", "http", "--public-url", "https://carbot.example.org/"]
    )

    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.output)
    settings = data["settings"]
    assert settings["socket_mode_enabled"] is False
    assert (
        settings["event_subscriptions"]["request_url"] == "https://carbot.example.org/slack/events"
    )
    assert settings["interactivity"]["request_url"] == (
        "https://carbot.example.org/slack/interactivity"
    )
    assert data["features"]["slash_commands"][0]["url"] == (
        "https://carbot.example.org/slack/commands"
    )
    assert data["oauth_config"] == manifest()["oauth_config"]


def test_http_mode_without_a_public_https_url_is_a_clear_error() -> None:
    result = CliRunner().invoke(
        main, ["slack", "manifest", "--mode", "http", "--public-url", "http://127.0.0.1:8000"]
    )

    assert result.exit_code == 2
    assert "public https:// URL" in result.output


def test_linking_by_email_says_which_setting_it_needs() -> None:
    result = CliRunner().invoke(main, ["slack", "link-by-email"])

    assert result.exit_code == 2
    assert "CARBOT_SLACK_LINK_BY_EMAIL" in result.output
