"""Live course reloads: validate the lessons folder, swap the course, tell other processes.

A reload loads the lessons folder with the same validator as ``tutorbot lessons check``
(:func:`bot.content.loader.check_course`). Invalid content changes nothing: the process keeps
its course and the problems come back as ``file:line: message``. Valid content is swapped in
one assignment (:meth:`CourseHost.swap_course`: interactions in flight finish on the course
they started with), its content hash is written to ``app_state`` under
:data:`CONTENT_HASH_KEY`, and the ``/ask`` index is rebuilt in the background (``/ask``
answers from the old one until the new one is ready).

Other processes cannot be reached directly, so they poll that hash (:class:`ReloadWatcher`, a
worker, every ``reload.poll_seconds``). When it changes they load *their own* lessons folder
and swap only if its files hash the same; otherwise they log a warning and keep their course
(a process whose folder was not updated must not serve a course nobody validated for it). Each
publication is acted on once, so a refused one warns once; publishing the same hash again
(``tutorbot lessons reload`` after fixing that folder) makes every process look again.
``tutorbot lessons reload`` is the operator's entry point: it validates the folder and writes
the hash, and the running processes pick it up. A process started later loads its own folder.

Progress rows of lessons, snippets and questions that a reload removed are kept (they are
history, and the ids come back if an author restores the text); :func:`find_orphans` counts
them for the reload summary. This module never imports ``discord``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.loader import check_course
from bot.content.model import Course, Lesson
from bot.db.base import utcnow
from bot.db.engine import Database
from bot.db.models.app_state import AppState
from bot.db.models.daily import DailyPost
from bot.db.models.feedback import Feedback
from bot.db.models.lessons import LessonProgress, SnippetView
from bot.db.models.quiz import QuizAnswer
from bot.lifecycle import pause, raise_if_cancelled
from bot.services.app_state import AppStateService

log = logging.getLogger(__name__)

#: The ``app_state`` key holding the content hash of the course every process should serve.
CONTENT_HASH_KEY = "course.content_hash"
#: At most this many ids are named per kind in a summary (the counts are always complete).
NAMED_IDS = 8


class CourseHost(Protocol):
    """What a reload needs from the application (:class:`bot.app.AppContext` is one)."""

    @property
    def course(self) -> Course:
        """The course served now."""
        ...

    @property
    def db(self) -> Database:
        """The database."""
        ...

    def swap_course(self, course: Course) -> Any:
        """Serve ``course`` from now on (one assignment)."""
        ...

    def refresh_tutor(self) -> None:
        """Rebuild the /ask index for the current course in the background, then swap it in."""
        ...


# --- what changed ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    """Ids added, removed and changed, of one kind of course item."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        """Whether anything of this kind changed."""
        return bool(self.added or self.removed or self.changed)

    def describe(self, noun: str) -> str:
        """``questions: +1 -2 ~0 (removed: fx-nn.q3, fx-nn.q2)``."""
        text = f"{noun}: +{len(self.added)} -{len(self.removed)} ~{len(self.changed)}"
        if self.removed:
            text += f" (removed: {_named(self.removed)})"
        return text

    @classmethod
    def between(cls, old: Mapping[str, object], new: Mapping[str, object]) -> Changes:
        """Compare two id → item mappings (items compare by value)."""
        return cls(
            added=tuple(sorted(set(new) - set(old))),
            removed=tuple(sorted(set(old) - set(new))),
            changed=tuple(sorted(key for key in set(old) & set(new) if old[key] != new[key])),
        )


def _named(ids: Iterable[str]) -> str:
    listed = sorted(ids)
    shown = ", ".join(listed[:NAMED_IDS])
    return shown + (f" and {len(listed) - NAMED_IDS} more" if len(listed) > NAMED_IDS else "")


def _lesson_head(lesson: Lesson) -> tuple[object, ...]:
    """What makes a lesson itself changed (its snippets and questions are counted apart)."""
    return (lesson.number, lesson.title, lesson.summary, lesson.topics)


@dataclass(frozen=True)
class CourseDiff:
    """What a new course version adds, removes and changes, by kind."""

    lessons: Changes
    snippets: Changes
    questions: Changes

    @classmethod
    def between(cls, old: Course, new: Course) -> CourseDiff:
        """The differences from ``old`` to ``new``."""
        return cls(
            lessons=Changes.between(
                {lesson.id: _lesson_head(lesson) for lesson in old.lessons},
                {lesson.id: _lesson_head(lesson) for lesson in new.lessons},
            ),
            snippets=Changes.between(old.snippets, new.snippets),
            questions=Changes.between(old.questions, new.questions),
        )

    @property
    def any(self) -> bool:
        """Whether anything changed."""
        return self.lessons.any or self.snippets.any or self.questions.any

    def lines(self) -> list[str]:
        """One line per kind."""
        return [
            self.lessons.describe("lessons"),
            self.snippets.describe("snippets"),
            self.questions.describe("questions"),
        ]


# --- progress that points at removed content ---------------------------------------------------


@dataclass(frozen=True)
class Orphans:
    """Stored rows that name lessons, snippets or questions the course no longer has.

    They are kept (history; restored text brings them back) and never crash a command.
    ``rows`` counts rows per table; ``ids`` are the missing ids they name.
    """

    rows: Mapping[str, int] = field(default_factory=dict)
    ids: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """Rows in all."""
        return sum(self.rows.values())

    def describe(self) -> str:
        """One line for the reload summary."""
        if not self.total:
            return "orphaned progress: none"
        tables = ", ".join(f"{count} {table}" for table, count in sorted(self.rows.items()))
        return (
            f"orphaned progress (kept): {tables} row(s) name {len(self.ids)} id(s) no longer "
            f"in the course ({_named(self.ids)})"
        )


#: (table name shown, column) pairs that store an id of each kind of course item.
_QUESTION_COLUMNS = (
    ("quiz_answer", QuizAnswer.question_id),
    ("daily_post", DailyPost.question_id),
    ("feedback", Feedback.question_id),
)
_SNIPPET_COLUMNS = (("snippet_view", SnippetView.snippet_id), ("feedback", Feedback.snippet_id))
_LESSON_COLUMNS = (("lesson_progress", LessonProgress.lesson_id),)


async def find_orphans(session: AsyncSession, course: Course) -> Orphans:
    """Count the stored rows naming items ``course`` does not have.

    One grouped query per column: the distinct ids ever stored are bounded by the course's
    history, so they are compared with the course in Python (no huge ``NOT IN`` list).
    """
    rows: dict[str, int] = {}
    missing: set[str] = set()
    kinds: tuple[tuple[tuple[tuple[str, Any], ...], Mapping[str, object] | set[str]], ...] = (
        (_QUESTION_COLUMNS, course.questions),
        (_SNIPPET_COLUMNS, course.snippets),
        (_LESSON_COLUMNS, {lesson.id for lesson in course.lessons}),
    )
    for columns, known in kinds:
        for table, column in columns:
            result = await session.execute(
                select(column, func.count()).where(column.is_not(None)).group_by(column)
            )
            for item_id, count in result.all():
                if item_id not in known:
                    rows[table] = rows.get(table, 0) + int(count)
                    missing.add(item_id)
    return Orphans(rows=rows, ids=tuple(sorted(missing)))


# --- one reload --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: refused with problems, nothing to do, or swapped with a summary."""

    problems: tuple[str, ...] = ()
    diff: CourseDiff | None = None
    orphans: Orphans | None = None
    course: Course | None = None
    unchanged: bool = False

    @property
    def ok(self) -> bool:
        """Whether the content was valid (and is now served)."""
        return not self.problems

    def summary(self) -> str:
        """Several lines for a person: the problems, or what changed."""
        if self.problems:
            return (
                f"The course was NOT reloaded: {len(self.problems)} problem(s); the bot keeps "
                "the course it has.\n" + "\n".join(self.problems)
            )
        assert self.course is not None
        head = (
            f"{len(self.course.lessons)} lessons, {len(self.course.snippets)} snippets, "
            f"{len(self.course.questions)} questions"
        )
        if self.unchanged:
            return f"The course is unchanged ({head}); nothing to reload."
        lines = [f"Course reloaded: {head}."]
        if self.diff is not None:
            lines += self.diff.lines()
        if self.orphans is not None:
            lines.append(self.orphans.describe())
        lines.append("/ask uses the previous index until the new one is built.")
        return "\n".join(lines)


def load_folder(folder: Path) -> tuple[Course | None, list[str]]:
    """The course in ``folder`` and its problems: the validator of ``tutorbot lessons check``."""
    return check_course(folder)


class ReloadService:
    """Reloads the course of one process; reloads never overlap."""

    def __init__(self, host: CourseHost, folder: Path, *, since: datetime | None = None) -> None:
        self.host = host
        self.folder = folder
        self.state = AppStateService()
        self._lock = asyncio.Lock()
        #: The publication (hash, when) this process has already acted on or refused: one
        #: warning per publication, and publishing the same hash again makes it look again.
        self._seen: tuple[str, datetime] | None = None
        #: Publications before this moment (when the process loaded its course) predate the
        #: course it serves: they are not acted on.
        self._since = since or utcnow()

    async def reload(self) -> ReloadOutcome:
        """Validate the folder; if valid, swap the course, publish its hash, rebuild /ask.

        Parsing runs off the event loop (it reads and validates every lesson file).
        """
        async with self._lock:
            course, problems = await asyncio.to_thread(load_folder, self.folder)
            if course is None:
                log.warning("course reload refused: %d problem(s) in %s", len(problems),
                            self.folder)
                return ReloadOutcome(problems=tuple(problems))
            outcome = await self._swap(course)
            async with self.host.db.sessions.begin() as session:
                await self.state.write(session, CONTENT_HASH_KEY, course.content_hash)
            self._seen = await self._publication()
            return outcome

    async def _swap(self, course: Course) -> ReloadOutcome:
        old = self.host.course
        if old.content_hash == course.content_hash:
            return ReloadOutcome(course=old, unchanged=True)
        diff = CourseDiff.between(old, course)
        self.host.swap_course(course)
        self.host.refresh_tutor()
        async with self.host.db.sessions() as session:
            orphans = await find_orphans(session, course)
        log.info("course reloaded (%s): %s; %s", course.content_hash[:12],
                 "; ".join(diff.lines()), orphans.describe())
        return ReloadOutcome(diff=diff, orphans=orphans, course=course)

    async def published_hash(self) -> str | None:
        """The content hash in ``app_state`` (``None`` before any reload was published)."""
        publication = await self._publication()
        return publication[0] if publication else None

    async def _publication(self) -> tuple[str, datetime] | None:
        async with self.host.db.sessions() as session:
            row = await session.get(AppState, CONTENT_HASH_KEY, populate_existing=True)
            return (row.value, row.updated_at) if row is not None else None

    async def follow(self) -> ReloadOutcome | None:
        """Catch up with a reload published by another process, if there is one.

        Returns ``None`` when there is nothing new (the published hash was seen already, or
        is this process's). When this process's own folder hashes differently (or is
        invalid), it logs a warning once, keeps its course and returns the outcome with the
        reason as its problem.
        """
        publication = await self._publication()
        if publication is None or publication == self._seen:
            return None
        if self._seen is None and publication[1] < self._since:
            self._seen = publication  # published before this process loaded its folder
            return None
        async with self._lock:
            if publication == self._seen:
                return None
            self._seen = publication
            published = publication[0]
            if published == self.host.course.content_hash:
                return None
            course, problems = await asyncio.to_thread(load_folder, self.folder)
            if course is None or course.content_hash != published:
                reason = (
                    f"{len(problems)} problem(s) in it, e.g. {problems[0]}" if problems
                    else f"its files hash to {course.content_hash[:12] if course else '?'}"
                )
                log.warning(
                    "another process published course %s, but this process's lessons folder "
                    "%s differs (%s): keeping the course it has (%s). Update this folder the "
                    "same way, then run `tutorbot lessons reload`.",
                    published[:12], self.folder, reason, self.host.course.content_hash[:12],
                )
                return ReloadOutcome(problems=(f"{self.folder}: {reason}",))
            return await self._swap(course)


async def publish_folder(db: Database, folder: Path) -> ReloadOutcome:
    """``tutorbot lessons reload``: validate ``folder`` and publish its hash (no swap here).

    The operator's process serves nothing; the running processes see the new hash within
    ``reload.poll_seconds`` and reload from their own folders.
    """
    course, problems = await asyncio.to_thread(load_folder, folder)
    if course is None:
        return ReloadOutcome(problems=tuple(problems))
    state = AppStateService()
    async with db.sessions.begin() as session:
        previous = await state.read(session, CONTENT_HASH_KEY)
        await state.write(session, CONTENT_HASH_KEY, course.content_hash)
    return ReloadOutcome(course=course, unchanged=previous == course.content_hash)


class ReloadWatcher:
    """A worker that follows reloads published by other processes (polls ``app_state``)."""

    name = "course-reload"

    def __init__(self, service: ReloadService, poll_seconds: float) -> None:
        self.service = service
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Poll in the background (publications older than this process are not acted on)."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="course-reload watcher"
            )

    async def stop(self) -> None:
        """Stop polling (a reload under way finishes first: it is one short swap)."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            await task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await pause(self._stopping, self.poll_seconds)
            if self._stopping.is_set():
                return
            try:
                await self.service.follow()
            except Exception:
                raise_if_cancelled()  # a cancellation the database driver turned into an error
                log.exception("could not check for a course reload; trying again later")


__all__ = [
    "CONTENT_HASH_KEY",
    "Changes",
    "CourseDiff",
    "CourseHost",
    "Orphans",
    "ReloadOutcome",
    "ReloadService",
    "ReloadWatcher",
    "find_orphans",
    "publish_folder",
]
