"""The course runtime: the course and the services built over it, swapped as one unit.

A later live reload of ``lessons/`` builds a new :class:`CourseRuntime` and puts it on the
:class:`~bot.app.AppContext` in one assignment (:meth:`~bot.app.AppContext.swap_course`). So
that an interaction never mixes two courses, each one reads ``app.runtime`` once, at its start,
and takes everything else from it and from service results; nothing holds the course by value
outside a runtime. The tutor (``/ask``) has its own swap unit, (course, retriever), which may lag
behind while its index rebuilds.

:func:`unit_of_work` is the one way an adapter opens a transaction around service calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Course
from bot.db.engine import Database
from bot.services.app_state import AppStateService
from bot.services.course import CourseService
from bot.services.daily import DailyService
from bot.services.feedback import FeedbackService
from bot.services.guild_config import GuildConfigService
from bot.services.learners import LearnerService
from bot.services.memory import MemoryModel
from bot.services.progress import ProgressService
from bot.services.quiz import QuizService
from bot.services.reminders import ReminderService
from bot.services.review import ReviewService
from bot.services.schedules import ScheduleService
from bot.settings import Settings


@dataclass
class Services:
    """Every use case, sharing one course."""

    learners: LearnerService
    course: CourseService
    quiz: QuizService
    review: ReviewService
    progress: ProgressService
    feedback: FeedbackService
    schedules: ScheduleService
    daily: DailyService
    guild_config: GuildConfigService
    state: AppStateService
    reminders: ReminderService

    @classmethod
    def build(cls, course: Course, settings: Settings) -> Services:
        """Services over ``course``."""
        memory = MemoryModel.from_settings(settings.review)
        quiz = QuizService(course, memory=memory)
        return cls(
            learners=LearnerService(default_timezone=settings.default_timezone),
            course=CourseService(course),
            quiz=quiz,
            review=ReviewService(course, quiz),
            progress=ProgressService(course, memory),
            feedback=FeedbackService(course),
            schedules=ScheduleService(
                course, max_per_guild=settings.daily.max_schedules_per_guild
            ),
            daily=DailyService(course),
            guild_config=GuildConfigService(settings.ask.guild_daily_token_budget),
            state=AppStateService(),
            reminders=ReminderService(
                course,
                min_due=settings.review.remind_min_due,
                default_timezone=settings.default_timezone,
                grace=timedelta(minutes=settings.jobs.grace_minutes),
            ),
        )


@dataclass(frozen=True)
class CourseRuntime:
    """One course and the services over it: what a live reload replaces atomically."""

    course: Course
    services: Services

    @classmethod
    def build(cls, course: Course, settings: Settings) -> CourseRuntime:
        """A runtime over ``course``, with fresh services."""
        return cls(course=course, services=Services.build(course, settings))


@dataclass(frozen=True)
class Actor:
    """The person an interaction is for, and where they are (no guild in DMs, the console)."""

    user_id: int
    name: str
    guild_id: int | None = None
    guild_name: str = ""


@dataclass(frozen=True)
class Unit:
    """What service calls inside one transaction get: the session, the runtime and the actor."""

    session: AsyncSession
    runtime: CourseRuntime
    actor: Actor
    #: Things to tell the learner after the reply (e.g. reminders switched off), found while
    #: ensuring the learner; the adapter shows them, then marks them shown.
    notices: list[str] = field(default_factory=list)

    @property
    def services(self) -> Services:
        """The services of this unit's runtime."""
        return self.runtime.services

    @property
    def course(self) -> Course:
        """The course of this unit's runtime."""
        return self.runtime.course


@asynccontextmanager
async def unit_of_work(
    db: Database, runtime: CourseRuntime, actor: Actor, *, ensure_learner: bool = True
) -> AsyncIterator[Unit]:
    """One transaction around service calls, committed when the block ends without error.

    With ``ensure_learner`` the actor is made a learner first (created on first contact, guild
    membership recorded) and anything pending to tell them is put in :attr:`Unit.notices`.
    Never await Discord or Anthropic inside the block: on SQLite the
    transaction holds the process's write lock until it ends.
    """
    async with db.sessions.begin() as session:
        if ensure_learner:
            await runtime.services.learners.ensure(
                session,
                actor.user_id,
                actor.name,
                guild_id=actor.guild_id,
                guild_name=actor.guild_name,
            )
        unit = Unit(session=session, runtime=runtime, actor=actor)
        if ensure_learner:
            pending = await runtime.services.reminders.pending_notice(session, actor.user_id)
            if pending is not None:
                unit.notices.append(pending)
        yield unit
