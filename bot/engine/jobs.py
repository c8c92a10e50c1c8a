"""The scheduler wiring: APScheduler (AsyncIOScheduler) calls the engine's steps on intervals.

It decides nothing. Every ``tick`` (a minute of real time; less when the demo clock runs fast)
one job runs the engine steps in order — plan, expire, dispatch, remind — at the clock's "now";
another job sends the digests that are due, every ``digest_every``; a third applies the study's
retention periods once a day (``retention_every``). Each job runs at most once
at a time and missed runs are coalesced, so a slow step never piles up. Every step is idempotent
and claims before it acts, so several ``carbot run`` workers may share one database.

:meth:`Jobs.stop` stops taking work: no job starts again, the step running finishes the send it
is in, the deliveries this worker still holds are released at once (no lease to wait for).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from adapters.base import Channel
from bot.channels import channel_steps
from bot.clock import Clock
from bot.engine.digest_jobs import send_due_digests
from bot.engine.dispatch import dispatch_once
from bot.engine.heard import send_what_we_heard
from bot.engine.leases import release_leases
from bot.engine.lifecycle import expire_once, remind_once
from bot.engine.planner import plan_once
from bot.engine.retention import retention_once
from bot.services import Services

log = logging.getLogger(__name__)

TICK_SECONDS = 60.0
DIGEST_SECONDS = 15 * 60.0
RETENTION_SECONDS = 24 * 3600.0
SHORTEST_TICK = 5.0


@dataclass(frozen=True)
class Step:
    """One idempotent step: given "now", do what is due and say how many things it did."""

    name: str
    run: Callable[[datetime], Awaitable[int]]


def tick_for_speed(speed: float) -> float:
    """Seconds between engine ticks: a minute of *clock* time, but never under five seconds."""
    return max(SHORTEST_TICK, TICK_SECONDS / max(speed, 1.0))


class Jobs:
    """The engine's jobs for one worker process."""

    def __init__(
        self,
        services: Services,
        channels: Mapping[str, Channel],
        clock: Clock,
        *,
        worker: str,
        tick: float = TICK_SECONDS,
        digest_every: float = DIGEST_SECONDS,
        retention_every: float = RETENTION_SECONDS,
    ) -> None:
        self.services = services
        self.channels = channels
        self.clock = clock
        self.worker = worker
        self.tick = tick
        self.digest_every = digest_every
        self.retention_every = retention_every
        self.stopping = asyncio.Event()
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._running: set[asyncio.Task[None]] = set()

    def engine_steps(self) -> list[Step]:
        services, channels, clock, stop = self.services, self.channels, self.clock, self.stopping
        worker = self.worker

        async def dispatch(now: datetime) -> int:
            return await dispatch_once(
                services, channels, now, worker=worker, clock=clock, stop=stop
            )

        async def remind(now: datetime) -> int:
            return await remind_once(services, channels, now, worker=worker, clock=clock, stop=stop)

        return [
            Step("plan", lambda now: plan_once(services, now)),
            Step("expire", lambda now: expire_once(services, now)),
            Step("dispatch", dispatch),
            Step("remind", remind),
        ]

    def digest_steps(self) -> list[Step]:
        services, channels = self.services, self.channels
        steps = [
            Step("digests", lambda now: send_due_digests(services, now)),
            Step("what-we-heard", lambda now: send_what_we_heard(services, channels, now)),
        ]
        steps += [Step(name, run) for name, run in channel_steps(services, channels)]
        return steps

    def retention_steps(self) -> list[Step]:
        services = self.services
        return [Step("retention", lambda now: retention_once(services, now))]

    async def run_steps(self, steps: list[Step]) -> dict[str, int]:
        """Run ``steps`` in order at the clock's time; a failing step is logged, not fatal."""
        done: dict[str, int] = {}
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)  # type: ignore[arg-type]
        try:
            for step in steps:
                if self.stopping.is_set():
                    break
                now = self.clock.now()
                try:
                    done[step.name] = await step.run(now)
                except Exception:
                    log.exception("the %s step failed; it runs again next time", step.name)
                    continue
                if done[step.name]:
                    log.info(
                        "%s: %d",
                        step.name,
                        done[step.name],
                        extra={"action": f"job.{step.name}", "count": done[step.name]},
                    )
        finally:
            if task is not None:
                self._running.discard(task)  # type: ignore[arg-type]
        return done

    def start(self) -> None:
        first = datetime.now(UTC) + timedelta(seconds=1)
        for name, steps, every in (
            ("engine", self.engine_steps(), self.tick),
            ("digests", self.digest_steps(), self.digest_every),
            ("retention", self.retention_steps(), self.retention_every),
        ):
            self.scheduler.add_job(
                self.run_steps,
                IntervalTrigger(seconds=every, timezone=UTC),
                args=[steps],
                id=name,
                name=name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(max(every, 1)),
                next_run_time=first,
            )
        self.scheduler.start()
        log.info(
            "scheduler started: engine every %.0f s, digests every %.0f s",
            self.tick,
            self.digest_every,
        )

    async def stop(self) -> None:
        """Stop taking work, let the running step finish its send, release held deliveries."""
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        running = list(self._running)
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        released = await release_leases(self.services, worker=self.worker)
        log.info("scheduler stopped; %d held deliveries released", released)
