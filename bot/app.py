"""The composition root: settings → course → database → services, built once per process.

Adapters (the Discord bot, the console, the ``ask`` command) receive an :class:`AppContext` and
never build services themselves.

Lifecycle: ``build_app()`` → ``await app.start()`` (starts the registered workers) → serve →
``await app.stop()`` (refuses new interactions, lets those in flight finish, stops the workers in
reverse order, closes the tutor and the database; all within ``lifecycle.stop_timeout_s``).
Background work registers with ``app.register_worker(worker)`` (see :mod:`bot.lifecycle`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.content.loader import load_course
from bot.content.model import Course
from bot.db.base import utcnow
from bot.db.engine import Database, open_database
from bot.lifecycle import Admission, Worker, WorkerRegistry
from bot.observe import Observer
from bot.runtime import CourseRuntime, Services
from bot.settings import Settings, prepare_folders

if TYPE_CHECKING:
    from bot.services.answer_batch import AnswerBatcher
    from bot.services.reload import ReloadService
    from bot.services.tutor import TutorService

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    """What every adapter needs: settings, the database and the course runtime.

    ``runtime`` (the course and the services over it) is replaced as one unit by
    :meth:`swap_course`; an interaction reads it once, at its start.
    """

    settings: Settings
    db: Database
    runtime: CourseRuntime
    _tutor: TutorService | None = field(default=None, repr=False)
    _tutor_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _answers: AnswerBatcher | None = field(default=None, repr=False)
    #: Interactions in flight; the unit-of-work helper admits each one through it.
    admission: Admission = field(default_factory=Admission, repr=False)
    _workers: WorkerRegistry = field(default_factory=WorkerRegistry, repr=False)
    _stopped: bool = field(default=False, repr=False)
    _reloads: ReloadService | None = field(default=None, repr=False)
    #: When this context (and its course) was made: reloads published before are not followed.
    created_at: datetime = field(default_factory=utcnow, repr=False)
    _tutor_rebuild: asyncio.Task[None] | None = field(default=None, repr=False)
    #: Log lines, metrics and health of this app (each app its own metrics registry).
    observer: Observer = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.observer is None:
            self.observer = Observer(str(self.db.engine.url))

    def register_worker(self, worker: Worker) -> None:
        """Run ``worker`` for the life of the app: before or after :meth:`start`.

        Registered after :meth:`start`, it is started at once (in a task). :meth:`stop` stops
        workers in the reverse order of their start.
        """
        self._workers.register(worker)

    @property
    def workers(self) -> tuple[Worker, ...]:
        """The registered background workers, in registration order."""
        return self._workers.workers

    async def start(self) -> None:
        """Start every registered worker, in registration order."""
        await self._workers.start()

    async def stop(self, within_s: float | None = None) -> None:
        """Stop cleanly within ``within_s`` seconds (default: ``lifecycle.stop_timeout_s``).

        New interactions are refused (:class:`~bot.lifecycle.ShuttingDownError`), those in
        flight get the budget to finish, then the workers stop in reverse order with what is
        left of it (each drains its own work first), then the tutor's client and the database
        close. Calling it again does nothing.
        """
        if self._stopped:
            return
        self._stopped = True
        budget = self.settings.lifecycle.stop_timeout_s if within_s is None else within_s
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        # Interactions get most of the budget; what is kept back replaces the answers of those
        # still running (cancelled) with a clear message, and stops the workers.
        reserve = min(2.0, budget / 4)
        if not await self.admission.drain(budget - reserve):
            abandoned = await self.admission.abandon(max(reserve / 2, 1.0))
            log.warning(
                "%d interaction(s) still running after %.1f s were cancelled",
                abandoned, budget - reserve,
            )
        if self._answers is not None:
            await self._answers.drain()  # answers handed in are recorded, then workers stop
        await self._workers.stop(max(deadline - loop.time(), 0.5))
        if self._tutor_rebuild is not None:
            self._tutor_rebuild.cancel()  # its thread's result is simply dropped
        if self._tutor is not None:
            await self._tutor.close()
        await self.db.dispose()

    @property
    def answers(self) -> AnswerBatcher:
        """The batched answer path of daily and practice quizzes, one per process.

        It gathers concurrent answers into group commits (:mod:`bot.services.answer_batch`).
        """
        if self._answers is None:
            from bot.services.answer_batch import AnswerBatcher
            from bot.services.memory import MemoryModel

            self._answers = AnswerBatcher(
                self.db, lambda: self.course, default_timezone=self.settings.default_timezone,
                memory=MemoryModel.from_settings(self.settings.review),
            )
        return self._answers

    @property
    def course(self) -> Course:
        """The current course (one read of :attr:`runtime`; adapters read ``runtime`` once)."""
        return self.runtime.course

    @property
    def services(self) -> Services:
        """The current services (one read of :attr:`runtime`)."""
        return self.runtime.services

    def swap_course(self, course: Course) -> CourseRuntime:
        """Serve ``course`` from now on: new services over it, swapped in one assignment.

        Interactions already running keep the runtime they read at their start. The tutor's own
        (course, retriever) unit is not swapped here: it follows when its index is rebuilt.
        """
        runtime = CourseRuntime.build(course, self.settings)
        self.runtime = runtime
        return runtime

    @property
    def reloads(self) -> ReloadService:
        """Live reloads of this process's course (``/admin reload``, the reload watcher)."""
        if self._reloads is None:
            from bot.services.reload import ReloadService

            self._reloads = ReloadService(
                self, self.settings.paths.lessons_dir, since=self.created_at
            )
        return self._reloads

    def refresh_tutor(self) -> None:
        """Rebuild the /ask index for the current course in the background, then swap it in.

        The index is built off the event loop (embedding a changed course takes a while);
        until it is ready, /ask answers from the previous one. Nothing to do before the tutor
        is first loaded: it loads from the current course then. A rebuild already running is
        replaced (the newest course wins).
        """
        if self._tutor is None or self._stopped:
            return
        if self._tutor_rebuild is not None and not self._tutor_rebuild.done():
            self._tutor_rebuild.cancel()
        self._tutor_rebuild = asyncio.get_running_loop().create_task(
            self._rebuild_tutor(self._tutor), name="rebuild /ask index"
        )

    async def _rebuild_tutor(self, tutor: TutorService) -> None:
        course = self.course
        if tutor.runtime.course is course:
            return
        try:
            runtime = await tutor.runtime_for(course)
        except Exception:
            log.exception("could not rebuild the /ask index; /ask keeps the previous course")
            return
        async with self._tutor_lock:  # never in the middle of a first load
            if self.course is not course:  # a newer reload came meanwhile; it rebuilds its own
                return
            tutor.swap(runtime)
        log.info("/ask now answers from the reloaded course (%s)", course.content_hash[:12])

    async def tutor(self, *, progress: bool = False) -> TutorService:
        """The /ask tutor, loaded on first use (the local model and its vector cache).

        Loading embeds the course once (minutes on a slow machine, with a progress bar when
        ``progress``), then reads the cache in well under a second; it runs off the event loop.
        """
        async with self._tutor_lock:
            if self._tutor is None:
                from bot.services.tutor import TutorService

                course = self.course
                self._tutor = await TutorService.load(
                    self.settings, course, learners=self.services.learners,
                    progress=progress,
                )
                if self.course is not course:  # reloaded while it loaded
                    self.refresh_tutor()
            return self._tutor

    async def close(self) -> None:
        """Stop the app (the same as :meth:`stop`; kept for one-shot commands)."""
        await self.stop()


async def build_app(settings: Settings, *, course: Course | None = None) -> AppContext:
    """Load the course, open (and upgrade) the database and build the services.

    Raises :class:`~bot.errors.ConfigError` (an unwritable data folder),
    :class:`~bot.errors.CourseError` or :class:`~bot.errors.DatabaseUnavailableError` with
    messages meant for the operator.
    """
    prepare_folders(settings)  # fail fast, before anything slow, on a folder we cannot write
    course = course or load_course(settings.paths.lessons_dir)
    db = await open_database(settings.database_url, echo=settings.database.echo)
    log.info(
        "course loaded: %d lessons, %d questions; database %s",
        len(course.lessons), len(course.questions), db.dialect,
    )
    return AppContext(settings=settings, db=db, runtime=CourseRuntime.build(course, settings))
