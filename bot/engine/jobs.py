"""The scheduler wiring: APScheduler (AsyncIOScheduler) calls the engine's steps on intervals,
and one sending loop sends what falls due at the channels' pace.

It decides nothing. Every ``tick`` (a minute of real time; less when the demo clock runs fast)
one job runs the planning steps — plan, expire — at the clock's "now"; another job sends the
digests that are due, every ``digest_every``; a third applies the study's retention periods once
a day (``retention_every``). Each job runs at most once at a time and missed runs are coalesced,
so a slow step never piles up; and the three take turns (a job due while another runs waits for
it): each reads many rows for a moment — planning everyone, finding who is due a digest — and
run together on a worker's first tick their passing peaks of memory added up (10,000
participants: planning, the digests and "what we heard" each hold tens of MB for a second).
Every step is idempotent and claims before it acts, so several
``carbot run`` workers may share one database.

**Sending** (dispatch, then reminders) is not a tick's batch: the worker that holds the
*sending leader* lock (:func:`bot.locks.leader_lock` ``"sender"``: a PostgreSQL advisory lock, or
a file lock next to the SQLite file) drains every due delivery continuously
(:func:`bot.engine.drain.drain`), then sleeps until the next one is due (looking again at least
every ``SEND_POLL_SECONDS``). One sender per database means the channels' pacing in that one
process *is* the platform's budget: two or ten workers together send no faster than Telegram's
30 messages a second, and provoke no 429. The other workers plan, expire, take inbound messages
and send digests; each tries for the lock every ``LEADER_RETRY_SECONDS`` and takes over within
that when the sender stops or dies (its lock goes with its connection or process).

:meth:`Jobs.stop` stops taking work: no job starts again, the step running finishes the send it
is in, the deliveries this worker still holds are released at once (no lease to wait for), and
the sending lock is let go so another worker takes over at once.
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
from bot.engine.digest_jobs import send_due_digests
from bot.engine.drain import drain, next_due
from bot.engine.heard import send_what_we_heard
from bot.engine.leases import release_leases
from bot.engine.lifecycle import expire_once, remind_once
from bot.engine.retention import retention_once
from bot.engine.watermark import Planner
from bot.locks import FileLock, PostgresAdvisoryLock, leader_lock
from bot.services import Services

log = logging.getLogger(__name__)

TICK_SECONDS = 60.0
DIGEST_SECONDS = 15 * 60.0
RETENTION_SECONDS = 24 * 3600.0
SHORTEST_TICK = 5.0
SEND_POLL_SECONDS = 1.0  # the sender looks for newly due deliveries at least this often
LEADER_RETRY_SECONDS = 5.0  # a worker that is not the sender asks for the lock this often
SENDER_LOCK = "sender"


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
        *,
        worker: str,
        tick: float = TICK_SECONDS,
        digest_every: float = DIGEST_SECONDS,
        retention_every: float = RETENTION_SECONDS,
    ) -> None:
        self.services = services
        self.channels = channels
        self.clock = services.clock  # every step's "now", and the time of what it writes
        self.worker = worker
        self.tick = tick
        self.digest_every = digest_every
        self.retention_every = retention_every
        self.stopping = asyncio.Event()
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._running: set[asyncio.Task[None]] = set()
        self.sender_lock: FileLock | PostgresAdvisoryLock = leader_lock(
            services.settings, SENDER_LOCK
        )
        self.poll = min(SEND_POLL_SECONDS, tick)
        self.leader_retry = min(LEADER_RETRY_SECONDS, max(tick, SEND_POLL_SECONDS))
        self._wake = asyncio.Event()
        self._sending: asyncio.Task[None] | None = None
        self.leading = False
        self.planner = Planner(services)
        self._turn = asyncio.Lock()  # the scheduled jobs take turns (see the module text)

    def engine_steps(self) -> list[Step]:
        services = self.services

        async def plan(now: datetime) -> int:
            planned = await self.planner.plan(now)
            if planned:
                self._wake.set()  # something may be due already: the sender looks now
            return planned

        return [Step("plan", plan), Step("expire", lambda now: expire_once(services, now))]

    def send_steps(self, *, as_leader: bool = False) -> list[Step]:
        """What the sending leader runs: every due delivery at the channels' pace, then the
        reminders that are due (``as_leader``: stop claiming as soon as the lock is lost)."""
        services, channels, stop = self.services, self.channels, self.stopping
        worker = self.worker

        async def dispatch(_now: datetime) -> int:
            return await drain(
                services,
                channels,
                worker=worker,
                stop=stop,
                still_leading=self.sender_lock.held if as_leader else None,
            )

        async def remind(now: datetime) -> int:
            return await remind_once(services, channels, now, worker=worker, stop=stop)

        return [Step("dispatch", dispatch), Step("remind", remind)]

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

    async def _scheduled(self, steps: list[Step]) -> None:
        """A scheduled job's run, once no other scheduled job of this worker is running."""
        async with self._turn:
            if not self.stopping.is_set():
                await self.run_steps(steps)

    async def _pause(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early when told to (new work, or stopping)."""
        self._wake.clear()
        if self.stopping.is_set():
            return
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=max(seconds, 0.0))
        except TimeoutError:
            pass

    async def _until_due(self) -> float:
        """Seconds until the next delivery falls due, at most ``poll``."""
        due = await next_due(self.services)
        if due is None:
            return self.poll
        return min(self.poll, max(0.0, (due - self.clock.now()).total_seconds()))

    async def send_loop(self) -> None:
        """Be the sending leader when we can; while we are, send what is due, then wait for
        the next due time."""
        steps = self.send_steps(as_leader=True)
        try:
            while not self.stopping.is_set():
                try:
                    self.leading = await self.sender_lock.acquire()
                except Exception:
                    log.exception("could not ask for the sending lock; trying again")
                    self.leading = False
                if not self.leading:
                    await self._pause(self.leader_retry)
                    continue
                await self.run_steps(steps)
                try:
                    wait = await self._until_due()
                except Exception:
                    log.exception("could not read when the next delivery is due")
                    wait = self.poll
                await self._pause(wait)
        finally:
            self.leading = False
            await self.sender_lock.release()

    def start(self) -> None:
        self._sending = asyncio.create_task(self.send_loop(), name="sender")
        first = datetime.now(UTC) + timedelta(seconds=1)
        for name, steps, every in (
            ("engine", self.engine_steps(), self.tick),
            ("digests", self.digest_steps(), self.digest_every),
            ("retention", self.retention_steps(), self.retention_every),
        ):
            self.scheduler.add_job(
                self._scheduled,
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
        self._wake.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        running = list(self._running)
        if self._sending is not None:
            running.append(self._sending)
            self._sending = None
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        released = await release_leases(self.services, worker=self.worker)
        log.info("scheduler stopped; %d held deliveries released", released)
