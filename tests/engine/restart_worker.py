"""A dispatcher process for the restart tests: it walks simulated time, planning, sending,
reminding and expiring, and writes every message the "platform" accepted to a journal file.

    python -m tests.engine.restart_worker '{"url": ..., "journal": ..., "start": ..., ...}'

With ``block_at: N`` the N-th prompt (reminders not counted) hangs *before* the platform accepts
it, after writing the ``blocked`` marker file — the test then kills the process with SIGKILL.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.base import (
    ASGIApp,
    InboundHandler,
    MessageRef,
    OutboundPrompt,
    OutboundText,
    Recipient,
)
from bot.engine.dispatch import dispatch_once
from bot.engine.lifecycle import expire_once, remind_once
from bot.engine.planner import plan_once
from bot.services import Services
from bot.settings import Settings


class JournalChannel:
    """The platform: a prompt counts as delivered once its line is on disk."""

    name = "webchat"

    def __init__(self, journal: Path, blocked: Path, block_at: int | None) -> None:
        self.journal = journal
        self.blocked = blocked
        self.block_at = block_at
        self.calls = 0
        self.prompts = 0
        self.now = datetime.min

    async def start(self, handler: InboundHandler) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send_prompt(self, to: Recipient, prompt: OutboundPrompt) -> MessageRef:
        self.calls += 1
        self.prompts += 0 if prompt.reminder else 1
        if not prompt.reminder and self.prompts == self.block_at:
            self.blocked.write_text(json.dumps({"at": self.now.isoformat(), "pid": os.getpid()}))
            await asyncio.Event().wait()  # hangs until the test kills the process
        kind = "reminder" if prompt.reminder else "prompt"
        with self.journal.open("a") as journal:
            journal.write(f"{kind} {prompt.delivery_id} {self.now.isoformat()}\n")
            journal.flush()
            os.fsync(journal.fileno())
        return MessageRef(self.name, f"{to.external_id}:{self.calls}")

    async def send_text(self, to: Recipient, message: OutboundText) -> MessageRef:
        return MessageRef(self.name, "text")

    def mounts(self) -> Mapping[str, ASGIApp]:
        return {}


async def walk(options: dict[str, Any]) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=options["url"],
        data_dir=options["data_dir"],
        secret_key="restart-test",
    )
    services = Services.from_settings(settings)
    channel = JournalChannel(
        Path(options["journal"]), Path(options["blocked"]), options.get("block_at")
    )
    channels = {"webchat": channel}
    worker = f"worker-{os.getpid()}"
    now = datetime.fromisoformat(options["start"])
    end = datetime.fromisoformat(options["end"])
    step = timedelta(minutes=options.get("step_minutes", 10))
    try:
        while now < end:
            channel.now = now
            if options.get("plan") and now.minute < step.total_seconds() / 60:
                await plan_once(services, now)
            await dispatch_once(services, channels, now, worker=worker)
            await remind_once(services, channels, now, worker=worker)
            await expire_once(services, now)
            now += step
    finally:
        await services.close()


if __name__ == "__main__":
    asyncio.run(walk(json.loads(sys.argv[1])))
