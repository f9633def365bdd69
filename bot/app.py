"""The composition root: settings → course → database → services, built once per process.

Adapters (the Discord bot, the console, the ``ask`` command) receive an :class:`AppContext` and
never build services themselves.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.content.loader import load_course
from bot.content.model import Course
from bot.db.engine import Database, open_database
from bot.services.course import CourseService
from bot.services.feedback import FeedbackService
from bot.services.learners import LearnerService
from bot.services.progress import ProgressService
from bot.services.quiz import QuizService
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.services.tutor import TutorService

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Every use case, sharing one course."""

    learners: LearnerService
    course: CourseService
    quiz: QuizService
    progress: ProgressService
    feedback: FeedbackService

    @classmethod
    def build(cls, course: Course, settings: Settings) -> Services:
        """Services over ``course``."""
        return cls(
            learners=LearnerService(default_timezone=settings.default_timezone),
            course=CourseService(course),
            quiz=QuizService(course),
            progress=ProgressService(course),
            feedback=FeedbackService(course),
        )


@dataclass
class AppContext:
    """What every adapter needs: settings, the course, the database and the services."""

    settings: Settings
    course: Course
    db: Database
    services: Services
    _tutor: TutorService | None = field(default=None, repr=False)
    _tutor_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def tutor(self, *, progress: bool = False) -> TutorService:
        """The /ask tutor, loaded on first use (the local model and its vector cache).

        Loading embeds the course once (minutes on a slow machine, with a progress bar when
        ``progress``), then reads the cache in well under a second; it runs off the event loop.
        """
        async with self._tutor_lock:
            if self._tutor is None:
                from bot.services.tutor import TutorService

                self._tutor = await TutorService.load(
                    self.settings, self.course, learners=self.services.learners,
                    progress=progress,
                )
            return self._tutor

    async def close(self) -> None:
        """Release the tutor's HTTP client and the database connections."""
        if self._tutor is not None:
            await self._tutor.close()
        await self.db.dispose()


async def build_app(settings: Settings, *, course: Course | None = None) -> AppContext:
    """Load the course, open (and upgrade) the database and build the services.

    Raises :class:`~bot.errors.CourseError` or :class:`~bot.errors.DatabaseUnavailableError`
    with messages meant for the operator.
    """
    course = course or load_course(settings.paths.lessons_dir)
    db = await open_database(settings.database_url, echo=settings.database.echo)
    log.info(
        "course loaded: %d lessons, %d questions; database %s",
        len(course.lessons), len(course.questions), db.dialect,
    )
    return AppContext(settings=settings, course=course, db=db,
                      services=Services.build(course, settings))
