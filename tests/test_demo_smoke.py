"""`make demo` ends in a running server whose printed link works.

The smoke test runs ``carbot demo up`` (what ``make demo`` runs) in an empty directory with a
fresh SQLite database, waits for the printed personal link, opens it, sees the first prompt
arrive, and stops the server with SIGTERM.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

CARBOT = Path(sys.executable).with_name("carbot")
LINK = re.compile(r"^  (?P<name>[^(]+) \((?P<project>[^)]+)\): (?P<url>http://\S+/chat/\S+)$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lines_of(stream: object) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return lines


def wait_for(check: object, seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()  # type: ignore[operator]
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_make_demo_ends_in_a_running_server_whose_printed_link_works(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CARBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'var' / 'carbot.db'}",
        "CARBOT_DATA_DIR": str(tmp_path / "var" / "data"),
        "CARBOT_OUTBOX_DIR": str(tmp_path / "var" / "outbox"),
        "CARBOT_WEB_PORT": str(port),  # the printed links follow it (no CARBOT_PUBLIC_URL)
    }
    log = (tmp_path / "carbot.log").open("w")
    demo = subprocess.Popen(
        [str(CARBOT), "demo", "up"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        output = lines_of(demo.stdout)
        printed: list[str] = []

        def printed_link() -> re.Match[str] | None:
            while not output.empty():
                printed.append(output.get())
                found = LINK.match(printed[-1])
                if found:
                    return found
            assert demo.poll() is None, "carbot demo up ended early:\n" + "\n".join(printed)
            return None

        link = wait_for(printed_link, 25, "the printed web chat link")
        assert isinstance(link, re.Match)
        url = link["url"]
        assert url.startswith(f"http://127.0.0.1:{port}/chat/")

        def page() -> httpx.Response | None:
            try:
                response = httpx.get(url, timeout=2)
            except httpx.TransportError:
                return None
            return response

        response = wait_for(page, 15, "the web app to answer")
        assert isinstance(response, httpx.Response)
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]
        assert f"Hello {link['name'].split()[0]}" in response.text

        def open_prompt() -> dict[str, object] | None:
            bubbles = httpx.get(f"{url}/history", timeout=2).json()["bubbles"]
            return next(
                (
                    b
                    for b in bubbles
                    if b["sender"] == "bot" and b["delivery_id"] and b["answered"] is None
                ),
                None,
            )

        prompt = wait_for(open_prompt, 15, "the first prompt to arrive")
        assert isinstance(prompt, dict) and prompt["text"]

        def printed_outbox() -> str | None:
            while not output.empty():
                printed.append(output.get())
            return next((line for line in printed if "/review/outbox" in line), None)

        outbox = wait_for(printed_outbox, 10, "the printed outbox address")
        assert isinstance(outbox, str)
        assert outbox.endswith(f"http://127.0.0.1:{port}/review/outbox")
        signed_out = httpx.get(f"http://127.0.0.1:{port}/review/outbox", timeout=2)
        assert signed_out.status_code == 303  # the review sign-in, whose cookie reaches it
        assert signed_out.headers["location"].startswith("/review/sign-in")
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            status = demo.wait(timeout=20)
        finally:
            if demo.poll() is None:
                demo.kill()
            log.close()
    assert status == 0, (tmp_path / "carbot.log").read_text()[-3000:]
    assert "stopped" in (tmp_path / "carbot.log").read_text()


def test_carbot_run_on_a_database_that_was_never_created_says_what_to_do(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CARBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'carbot.db'}",
        "CARBOT_WEB_PORT": str(free_port()),
    }
    result = subprocess.run(
        [str(CARBOT), "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "run `carbot db upgrade` first" in result.stderr
