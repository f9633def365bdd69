"""The process lifecycle: background workers and the interactions in flight.

Everything that runs in the background (the daily-quiz job runner, reminders, a metrics server)
is a :class:`Worker` registered with the :class:`~bot.app.AppContext`; it is started by
``app.start()`` and stopped, in reverse order, by ``app.stop()``. Interactions are admitted
through :class:`Admission`, which counts those in flight so that a shutdown first refuses new
ones, then lets the running ones finish (within a bound), and only then stops the workers and
closes the database.

This module is domain code: it never imports ``discord``.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.errors import TutorError

log = logging.getLogger(__name__)


def raise_if_cancelled() -> None:
    """Re-raise a cancellation of the current task that something on the way swallowed.

    A worker's loop must end when its task is cancelled, but a cancellation can be lost before it
    reaches the loop: a database driver may turn it into an ordinary error (caught by the loop's
    ``except Exception``), and ``asyncio.wait_for`` on Python 3.11 can drop one that arrives as its
    timeout fires. The task's pending cancel requests (``Task.cancelling()``) still say it was
    asked to stop, so a loop that calls this after each step never outlives its cancellation (a
    test's event loop closing, a shutdown that gave up on ``stop()``).
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def pause(stopping: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if ``stopping`` is set; a cancellation always gets through."""
    with suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
    raise_if_cancelled()


@runtime_checkable
class Worker(Protocol):
    """Something that runs in the background for the life of the process.

    ``stop()`` drains the worker's own work (a job runner lets its running jobs finish before
    stopping its scheduler), then stops. The caller bounds it: a ``stop()`` still running at the
    shutdown deadline is cancelled.
    """

    name: str

    async def start(self) -> None:
        """Begin the background work; return once it is running."""
        ...

    async def stop(self) -> None:
        """Drain this worker's own work, then stop."""
        ...


class ShuttingDownError(TutorError):
    """The process is stopping: new work is refused with a short, friendly message."""

    def __init__(self) -> None:
        super().__init__("I'm restarting; please try again in a moment.")


@dataclass(frozen=True)
class _Notice:
    """How to tell the caller of a unit of work that a shutdown cancelled it."""

    callback: Callable[[], Coroutine[Any, Any, None]]
    context: contextvars.Context | None


class Admission:
    """Counts the units of work in flight and refuses new ones once closing.

    ``async with admission.admit():`` around an interaction (the one unit-of-work helper does
    it) raises :class:`ShuttingDownError` when the process is stopping, and otherwise counts
    the interaction until it ends. :meth:`drain` closes the door and waits for the count to
    reach zero.
    """

    def __init__(self) -> None:
        self._in_flight = 0
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._tracked: dict[asyncio.Task[Any], _Notice | None] = {}

    @property
    def closing(self) -> bool:
        """Whether new work is being refused."""
        return self._closing

    @property
    def in_flight(self) -> int:
        """How many admitted units of work have not finished yet."""
        return self._in_flight

    def enter(self) -> None:
        """Count one more unit of work; raises :class:`ShuttingDownError` when closing."""
        if self._closing:
            raise ShuttingDownError()
        self._in_flight += 1
        self._idle.clear()

    def leave(self) -> None:
        """One admitted unit of work has finished."""
        self._in_flight -= 1
        if self._in_flight <= 0:
            self._in_flight = 0
            self._idle.set()

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Run the body as one admitted unit of work (refused when closing)."""
        self.enter()
        try:
            yield
        finally:
            self.leave()

    def track(
        self,
        task: asyncio.Task[Any],
        on_abandoned: Callable[[], Coroutine[Any, Any, None]] | None = None,
        context: contextvars.Context | None = None,
    ) -> None:
        """Count ``task`` as one unit of work until it ends (raises when closing).

        If a shutdown has to cancel it (:meth:`abandon`), ``on_abandoned`` runs afterwards (in
        ``context``, the one the work arrived in) to tell whoever was waiting.
        """
        self.enter()
        self._tracked[task] = _Notice(on_abandoned, context) if on_abandoned else None

        def done(finished: asyncio.Task[Any]) -> None:
            self._tracked.pop(finished, None)
            self.leave()

        task.add_done_callback(done)

    async def abandon(self, within_s: float) -> int:
        """Cancel the tracked work still running and tell its callers; returns how many.

        Bounded by ``within_s`` seconds in all (cancellation and the messages).
        """
        running = {task: callback for task, callback in self._tracked.items() if not task.done()}
        if not running:
            return 0
        for task in running:
            task.cancel()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        await asyncio.wait(set(running), timeout=min(within_s / 4, 0.25))
        notices = [
            loop.create_task(notice.callback(), context=notice.context)
            for notice in running.values()
            if notice is not None
        ]
        if notices:
            _, late = await asyncio.wait(notices, timeout=max(deadline - loop.time(), 0.05))
            for notice in late:
                notice.cancel()
            for notice in notices:
                if notice.done() and not notice.cancelled() and notice.exception() is not None:
                    log.warning("could not tell an abandoned caller: %s", notice.exception())
        return len(running)

    def close(self) -> None:
        """Refuse every new unit of work from now on."""
        self._closing = True

    async def drain(self, within_s: float) -> bool:
        """Close, then wait up to ``within_s`` seconds for the work in flight to finish.

        Returns whether everything finished in time.
        """
        self.close()
        if self._in_flight == 0:
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=max(within_s, 0.0))
        except TimeoutError:
            return False
        return True


class WorkerRegistry:
    """The background workers of one process, started in order and stopped in reverse."""

    def __init__(self) -> None:
        self._workers: list[Worker] = []
        self._started: list[Worker] = []
        self._pending: set[asyncio.Task[None]] = set()
        self._running = False
        self._stopped = False
        self._starting = False

    @property
    def workers(self) -> tuple[Worker, ...]:
        """Every registered worker, in registration order."""
        return tuple(self._workers)

    @property
    def running(self) -> bool:
        """Whether :meth:`start` has run and :meth:`stop` has not."""
        return self._running

    def register(self, worker: Worker) -> None:
        """Add ``worker``; if the registry is already running, start it now (in a task)."""
        if self._stopped:
            raise RuntimeError(f"cannot register worker {worker.name!r}: the app is stopping")
        if any(existing is worker for existing in self._workers):
            raise ValueError(f"worker {worker.name!r} is registered twice")
        self._workers.append(worker)
        if self._running:
            task = asyncio.get_running_loop().create_task(
                self._start_one(worker), name=f"start worker {worker.name}"
            )
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _start_one(self, worker: Worker) -> None:
        try:
            await worker.start()
        except Exception:
            log.exception("worker %s failed to start", worker.name)
            return
        self._started.append(worker)
        log.info("worker %s started", worker.name)

    async def start(self) -> None:
        """Start every registered worker in order; on a failure, stop those started and raise."""
        # Re-entrant: the Discord worker's start runs the bot's setup hook, which may call
        # app.start() itself (for in-process runs); the outer call starts everything.
        if self._running or self._stopped or self._starting:
            return
        self._starting = True
        # By index: a worker's start() may register another (an extension loaded while the
        # Discord client starts registers its job runner); that one starts in turn.
        index = 0
        while index < len(self._workers):
            worker = self._workers[index]
            index += 1
            try:
                await worker.start()
            except BaseException:
                log.error("worker %s failed to start; stopping the others", worker.name)
                await self.stop(within_s=5.0)
                raise
            self._started.append(worker)
            log.info("worker %s started", worker.name)
        self._running = True

    async def stop(self, within_s: float) -> None:
        """Stop the started workers in reverse order, all within ``within_s`` seconds.

        A worker whose ``stop()`` fails is logged and the others still stop; one still stopping
        at the deadline is cancelled. Calling it again does nothing.
        """
        self._running = False
        self._stopped = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=max(deadline - loop.time(), 0.1))
        while self._started:
            worker = self._started.pop()
            # Each worker gets what is left of the budget, and never less than a moment.
            left = max(deadline - loop.time(), 0.1)
            try:
                await asyncio.wait_for(worker.stop(), timeout=left)
            except TimeoutError:
                log.warning("worker %s did not stop within %.1f s; cancelled", worker.name, left)
            except Exception:
                log.exception("worker %s failed while stopping", worker.name)
            else:
                log.info("worker %s stopped", worker.name)
