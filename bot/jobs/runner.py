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
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs.leader import Leadership
from bot.lifecycle import pause, raise_if_cancelled

if TYPE_CHECKING:
    from bot.observe import Observer

log = logging.getLogger(__name__)


@runtime_checkable
class Counted(Protocol):
    """A job's result that says what the run did (``posts_made``, ``posts_late``, ...)."""

    def job_counts(self) -> Mapping[str, int]:
        """What this result counts for, by name."""
        ...


def counts_of(result: object) -> dict[str, int]:
    """What a job's result counts for: a :class:`Counted`, or an iterable of them."""
    items: Iterable[object]
    if isinstance(result, Counted):
        items = (result,)
    elif isinstance(result, list | tuple):
        items = result
    else:
        return {}
    totals: dict[str, int] = {}
    for item in items:
        if isinstance(item, Counted):
            for name, value in item.job_counts().items():
                totals[name] = totals.get(name, 0) + value
    return totals


class JobTracker:
    """The jobs a feature has running, so its ``end()`` can wait for them.

    :meth:`wrap` turns a coroutine function into an APScheduler job that is counted while it
    runs and whose exceptions are logged (with ``label``) instead of reaching the scheduler.
    Each run ends with one log line and its metrics (through ``observer``, the app's, when
    given): the job, its latency, its outcome, what its result counts (:class:`Counted`) and,
    when it failed, an error id that the traceback's line carries too.
    """

    def __init__(self, label: str, observer: Observer | None = None) -> None:
        self.label = label
        self.observer = observer
        self._tasks: set[asyncio.Task[Any]] = set()

    def wrap(
        self, fn: Callable[..., Awaitable[Any]], *, reraise: bool = False
    ) -> Callable[..., Awaitable[None]]:
        """``fn`` as a tracked job that never raises (unless ``reraise``: a step of ``begin``)."""
        job = f"{self.label}:{getattr(fn, '__name__', 'job')}"

        async def run(*args: Any) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            started = time.perf_counter()
            outcome, counts, error_id = "ok", {}, None
            try:
                counts = counts_of(await fn(*args))
            except Exception as exc:
                from bot.observe import database_error_kind, new_error_id

                error_id = new_error_id()
                damaged = self.observer is not None and self.observer.database_failed(exc)
                outcome = "db_error" if database_error_kind(exc) else "error"
                if damaged:  # the operator had their one line
                    log.info("%s job %s failed: the database is damaged (error %s)",
                             self.label, getattr(fn, "__name__", fn), error_id)
                elif not reraise:
                    log.exception("%s job %s failed (error %s)", self.label,
                                  getattr(fn, "__name__", fn), error_id)
                if reraise:
                    self._observe(job, started, outcome, counts, error_id)
                    raise
            finally:
                if task is not None:
                    self._tasks.discard(task)
            self._observe(job, started, outcome, counts, error_id)

        run.__name__ = getattr(fn, "__name__", "job")
        return run

    def _observe(
        self, job: str, started: float, outcome: str, counts: dict[str, int],
        error_id: str | None,
    ) -> None:
        if self.observer is not None:
            self.observer.job(job=job, seconds=time.perf_counter() - started, outcome=outcome,
                              counts=counts, error_id=error_id)

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
        if task is not None and not task.done():  # done: it was cancelled, nothing to wait for
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
                raise_if_cancelled()  # a cancellation the database driver turned into an error
                log.exception("job runner: leadership check failed; stepping down")
                await self._step_down()
                with contextlib.suppress(Exception):
                    await self.leadership.release()
            await pause(self._stopping, self.check_seconds)

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
