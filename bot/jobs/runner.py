"""The job runner: APScheduler 3.11 in-process, run only by the leader, SQL as the truth.

APScheduler decides *when* to look; the SQL tables decide *what* happens (claims unique on
their key), so a job firing twice, in two processes, or after a restart does its work once.
APScheduler's own job stores are not used (a store shared between schedulers runs jobs twice,
and a rebuilt in-memory store never sees runs missed while down): each feature re-creates its
jobs from SQL when this process becomes leader, and catches up what was missed itself.

A feature (e.g. :class:`bot.jobs.daily.DailyQuizJobs`) implements :class:`Feature`: ``begin``
adds its jobs to the scheduler and catches up; ``end`` drains its work in flight. The runner is
a worker of the app's lifecycle (``name``, ``start()``, ``stop()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs.leader import Leadership

log = logging.getLogger(__name__)


class JobTracker:
    """The jobs a feature has running, so its ``end()`` can wait for them.

    :meth:`wrap` turns a coroutine function into an APScheduler job that is counted while it
    runs and whose exceptions are logged (with ``label``) instead of reaching the scheduler.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self._tasks: set[asyncio.Task[Any]] = set()

    def wrap(self, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[None]]:
        """``fn`` as a tracked job that never raises."""

        async def run(*args: Any) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                await fn(*args)
            except Exception:
                log.exception("%s job %s failed", self.label, getattr(fn, "__name__", fn))
            finally:
                if task is not None:
                    self._tasks.discard(task)

        run.__name__ = getattr(fn, "__name__", "job")
        return run

    async def drain(self) -> None:
        """Wait for the jobs running now (the caller bounds the wait)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class Feature(Protocol):
    """Jobs of one feature, run while this process leads."""

    name: str

    async def begin(self, scheduler: AsyncIOScheduler) -> None:
        """Add the feature's jobs to ``scheduler`` and catch up on what was missed."""
        ...

    async def end(self) -> None:
        """Finish (or abandon safely) work in flight; the scheduler is already stopped."""
        ...


class JobRunner:
    """Seeks leadership; while leading, runs every registered feature's jobs."""

    name = "jobs"

    def __init__(
        self,
        leadership: Leadership,
        *,
        check_seconds: float = 10.0,
        grace_seconds: float = 7200,
        enabled: bool = True,
    ) -> None:
        self.leadership = leadership
        self.enabled = enabled
        self.check_seconds = check_seconds
        self.grace_seconds = grace_seconds
        self.features: list[Feature] = []
        self.scheduler: AsyncIOScheduler | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._leading = asyncio.Event()

    def add_feature(self, feature: Feature) -> None:
        """Register a feature's jobs (before :meth:`start`)."""
        self.features.append(feature)

    @property
    def leading(self) -> bool:
        """True while this process runs the jobs (after every feature has begun)."""
        return self._leading.is_set()

    async def wait_leading(self, within: float | None = None) -> bool:
        """Wait until this process leads (``False`` if it does not within ``within`` s)."""
        try:
            await asyncio.wait_for(self._leading.wait(), within)
        except TimeoutError:
            return False
        return True

    async def start(self) -> None:
        """Begin seeking leadership in the background (not when jobs are disabled)."""
        if not self.enabled:
            log.info("scheduled jobs are disabled in this process (jobs.enabled = false)")
            return
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="jobs-leadership")

    async def stop(self) -> None:
        """Stop the scheduler, drain the features' work and give up leadership."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        await self._step_down()
        await self.leadership.release()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if self.scheduler is None:
                    if await self.leadership.try_acquire():
                        await self._take_lead()
                elif not await self.leadership.still_held():
                    log.warning("job leadership lost; stepping down")
                    await self._step_down()
            except Exception:
                log.exception("job runner: leadership check failed; stepping down")
                await self._step_down()
                with contextlib.suppress(Exception):
                    await self.leadership.release()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.check_seconds)

    async def _take_lead(self) -> None:
        log.info("this process now runs the scheduled jobs (%s)", self.leadership.description)
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.grace_seconds),
            },
        )
        scheduler.start()
        self.scheduler = scheduler
        for feature in self.features:
            try:
                await feature.begin(scheduler)
            except Exception:
                log.exception("job feature %s failed to start; stepping down", feature.name)
                await self._step_down()
                await self.leadership.release()
                return
        self._leading.set()

    async def _step_down(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        self._leading.clear()
        if scheduler is None:
            return
        scheduler.shutdown(wait=False)
        for feature in reversed(self.features):
            try:
                await feature.end()
            except Exception:
                log.exception("job feature %s failed to stop cleanly", feature.name)


__all__ = ["Feature", "JobRunner"]
