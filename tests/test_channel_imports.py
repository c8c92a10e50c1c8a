"""A worker carries only the SDKs of the channels it runs: ``carbot run`` with only Telegram
configured imports neither Bolt nor slack_sdk nor the Teams SDK (tens of MB of resident memory
each), and one with no channel token imports no platform SDK at all. Building the worker leaves
no passing peak of memory behind (argon2 holds 64 MB while it hashes: no hash at start-up)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SDKS = ("telegram", "slack_bolt", "slack_sdk", "aiohttp", "microsoft_teams")

# what `carbot run` imports and builds before it starts anything
PROBE = """
import asyncio, json, sys
from pathlib import Path
import bot.runner
from bot.channels import build_channels
from bot.services import Services
from bot.web.app import create_app
from tests.conftest import make_settings

settings = make_settings(Path(sys.argv[1]), **json.loads(sys.argv[2]))
services = Services.from_settings(settings)
asyncio.run(bot.runner.schema_problem(services))
channels = build_channels(services)
create_app(services, channels)
memory = {}
with open("/proc/self/status") as status:
    for line in status:
        name, _, value = line.partition(":")
        memory[name] = int(value.split()[0]) // 1024 if name in ("VmRSS", "VmHWM") else 0
print(json.dumps({
    "peak_above_now_mb": memory["VmHWM"] - memory["VmRSS"],
    "alembic": "alembic" in sys.modules,
    "channels": sorted(channel.name for channel in channels),
    "sdks": sorted(name for name in SDKS if name in sys.modules),
}))
""".replace("SDKS", repr(SDKS))


def _run_worker_imports(tmp_path: Path, **settings: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path), json.dumps(settings)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_a_telegram_only_worker_imports_no_slack_or_teams_sdk(tmp_path: Path) -> None:
    found = _run_worker_imports(tmp_path, telegram_token="123456:test-token")
    assert "telegram" in found["channels"]
    assert found["sdks"] == ["telegram"]


def test_a_worker_without_channel_tokens_imports_no_platform_sdk(tmp_path: Path) -> None:
    found = _run_worker_imports(tmp_path)
    assert found["channels"] == ["webchat"]
    assert found["sdks"] == []


def test_a_slack_worker_still_gets_its_sdk(tmp_path: Path) -> None:
    found = _run_worker_imports(tmp_path, slack_bot_token="xoxb-test", slack_app_token="xapp-test")
    assert "slack" in found["channels"]
    assert "slack_bolt" in found["sdks"]


def test_a_worker_checks_its_schema_without_loading_alembic(tmp_path: Path) -> None:
    assert _run_worker_imports(tmp_path)["alembic"] is False


def test_building_a_worker_leaves_no_passing_peak_of_memory(tmp_path: Path) -> None:
    found = _run_worker_imports(tmp_path, telegram_token="123456:test-token")
    assert found["peak_above_now_mb"] < 16
