"""Reading the course: next and previous snippet, jump to a lesson, resume, mark done.

Navigation is relative to a snippet id carried by the caller (a button remembers the snippet it
was showing), so a page opened before a restart still moves correctly afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Course, Lesson, Snippet
from bot.db.base import utcnow
from bot.db.models import Learner, LessonPost, LessonProgress, SnippetView
from bot.db.upsert import insert_ignore, upsert
from bot.errors import NotFoundError


@dataclass(frozen=True)
class Page:
    """One snippet as a learner sees it, with where it sits in its lesson."""

    lesson: Lesson
    snippet: Snippet
    index: int  # 0-based position in the lesson
    total: int
    lesson_done: bool
    next_lesson: Lesson | None  # the lesson after this one (offered on the last snippet)
    #: Set by :meth:`CourseService.step` past the course's very last snippet: the learner has
    #: just read the whole course.
    finished_course: bool = False

    @property
    def has_previous(self) -> bool:
        """Whether there is a snippet before this one in the lesson."""
        return self.index > 0

    @property
    def has_next(self) -> bool:
        """Whether there is a snippet after this one in the lesson."""
        return self.index + 1 < self.total


@dataclass(frozen=True)
class LessonStatus:
    """A lesson with one learner's progress in it."""

    lesson: Lesson
    read: int  # snippets read
    done: bool
    current: bool  # the lesson the learner is on

    @property
    def total(self) -> int:
        """Number of snippets in the lesson."""
        return len(self.lesson.snippets)


class CourseService:
    """Navigation through the course and the reading progress it leaves behind."""

    def __init__(self, course: Course) -> None:
        self.course = course

    def _lesson(self, lesson_id: str) -> Lesson:
        lesson = self.course.lesson(lesson_id)
        if lesson is None:
            raise NotFoundError("That lesson is no longer in the course. Try /course for the list.")
        return lesson

    def resolve_lesson(self, text: str) -> Lesson:
        """The lesson a learner named (id, number or title), or a friendly error."""
        lesson = self.course.find_lesson(text)
        if lesson is None:
            shown = text.strip()[:80] or "(empty)"
            raise NotFoundError(
                f"I can't find a lesson called \u201c{shown}\u201d. Pick one from the list "
                "(start typing for suggestions) or see /course."
            )
        return lesson

    async def overview(self, session: AsyncSession, learner_id: int) -> list[LessonStatus]:
        """Every lesson with the learner's progress marks."""
        read_rows = await session.execute(
            select(SnippetView.lesson_id, SnippetView.snippet_id).where(
                SnippetView.learner_id == learner_id
            )
        )
        read: dict[str, int] = {}
        for row in read_rows:
            if row.snippet_id in self.course.snippets:  # ignore snippets removed from the course
                read[row.lesson_id] = read.get(row.lesson_id, 0) + 1
        done_rows = await session.execute(
            select(LessonProgress.lesson_id).where(
                LessonProgress.learner_id == learner_id, LessonProgress.completed_at.is_not(None)
            )
        )
        done = {row.lesson_id for row in done_rows}
        learner = await session.get(Learner, learner_id)
        current = learner.current_lesson_id if learner else None
        return [
            LessonStatus(
                lesson=lesson,
                read=min(read.get(lesson.id, 0), len(lesson.snippets)),
                done=lesson.id in done,
                current=lesson.id == current,
            )
            for lesson in self.course.lessons
        ]

    async def current_lesson(self, session: AsyncSession, learner_id: int) -> Lesson | None:
        """The lesson the learner is reading (None for a newcomer or a lesson since removed)."""
        current = await session.scalar(
            select(Learner.current_lesson_id).where(Learner.id == learner_id)
        )
        return self.course.lesson(current or "")

    async def resume(self, session: AsyncSession, learner_id: int) -> Page:
        """Where the learner left off; the first lesson for a newcomer.

        A finished lesson resumes at the start of the next unfinished one.
        """
        learner = await session.get(Learner, learner_id)
        lesson = self.course.lesson(learner.current_lesson_id or "") if learner else None
        if lesson is None:
            lesson = self.course.lessons[0]
        progress = await session.get(LessonProgress, (learner_id, lesson.id))
        if progress is not None and progress.completed_at is not None:
            following = await self._first_unfinished_after(session, learner_id, lesson)
            if following is not None:
                return await self.open_lesson(session, learner_id, following.id)
        return await self.open_lesson(session, learner_id, lesson.id)

    async def _first_unfinished_after(
        self, session: AsyncSession, learner_id: int, lesson: Lesson
    ) -> Lesson | None:
        done_rows = await session.execute(
            select(LessonProgress.lesson_id).where(
                LessonProgress.learner_id == learner_id, LessonProgress.completed_at.is_not(None)
            )
        )
        done = {row.lesson_id for row in done_rows}
        ids = [item.id for item in self.course.lessons]
        start = ids.index(lesson.id) + 1
        for candidate in self.course.lessons[start:] + self.course.lessons[:start]:
            if candidate.id not in done:
                return candidate
        return None

    async def open_lesson(self, session: AsyncSession, learner_id: int, lesson_id: str) -> Page:
        """Open a lesson where the learner last was in it (its first snippet if new)."""
        lesson = self._lesson(lesson_id)
        snippet_id = await session.scalar(
            select(LessonProgress.last_snippet_id).where(
                LessonProgress.learner_id == learner_id, LessonProgress.lesson_id == lesson.id
            )
        )
        if snippet_id not in {s.id for s in lesson.snippets}:
            snippet_id = lesson.snippets[0].id
        return await self.show(session, learner_id, snippet_id)

    async def show(self, session: AsyncSession, learner_id: int, snippet_id: str) -> Page:
        """Show one snippet and record that the learner read it and is now there."""
        snippet = self.course.snippets.get(snippet_id)
        if snippet is None:
            raise NotFoundError(
                "That part of the course has changed since this page was opened. "
                "Use /lesson to continue where you left off."
            )
        lesson = self._lesson(snippet.lesson_id)
        now = utcnow()
        await insert_ignore(
            session,
            SnippetView,
            learner_id=learner_id,
            snippet_id=snippet.id,
            lesson_id=lesson.id,
            first_seen_at=now,
        )
        progress = await upsert(
            session,
            LessonProgress,
            {
                "learner_id": learner_id,
                "lesson_id": lesson.id,
                "last_snippet_id": snippet.id,
                "updated_at": now,
            },
            update=("last_snippet_id", "updated_at"),
            returning=("completed_at",),
        )
        connection = await session.connection()
        await connection.execute(
            update(Learner).where(Learner.id == learner_id).values(current_lesson_id=lesson.id)
        )
        return Page(
            lesson=lesson,
            snippet=snippet,
            index=snippet.position,
            total=len(lesson.snippets),
            lesson_done=progress.completed_at is not None,
            next_lesson=self.course.next_lesson(lesson.id),
        )

    async def step(
        self, session: AsyncSession, learner_id: int, snippet_id: str, offset: int
    ) -> Page:
        """Move ``offset`` snippets from ``snippet_id`` within its lesson.

        Past the last snippet the lesson counts as read to the end and the next lesson opens.
        """
        snippet = self.course.snippets.get(snippet_id)
        if snippet is None:
            return await self.resume(session, learner_id)
        lesson = self._lesson(snippet.lesson_id)
        target = snippet.position + offset
        if target >= len(lesson.snippets):
            await self.mark_done(session, learner_id, lesson.id)
            following = self.course.next_lesson(lesson.id)
            if following is None:
                page = await self.show(session, learner_id, lesson.snippets[-1].id)
                return replace(page, finished_course=page.lesson_done)
            return await self.open_lesson(session, learner_id, following.id)
        target = max(target, 0)
        return await self.show(session, learner_id, lesson.snippets[target].id)

    async def record_post(self, session: AsyncSession, message_id: int, learner_id: int) -> None:
        """Remember that the posted page ``message_id`` shows ``learner_id``'s reading."""
        await insert_ignore(
            session, LessonPost, message_id=message_id, learner_id=learner_id, created_at=utcnow()
        )

    async def post_owner(self, session: AsyncSession, message_id: int) -> int | None:
        """The learner whose page the posted message ``message_id`` is (``None``: unknown).

        Ownership comes from the row written when the page was posted, never from a button's
        custom id (a client can send any id).
        """
        return await session.scalar(
            select(LessonPost.learner_id).where(LessonPost.message_id == message_id)
        )

    async def mark_done_at(self, session: AsyncSession, learner_id: int, snippet_id: str) -> Page:
        """Mark the lesson of ``snippet_id`` finished and show that snippet again.

        Raises :class:`~bot.errors.NotFoundError` when the snippet left the course since the
        page was opened.
        """
        lesson = self.course.lesson_of(snippet_id)
        if lesson is None:
            raise NotFoundError(
                "That part of the course has changed since this page was opened. "
                "Use /lesson to continue where you left off."
            )
        await self.mark_done(session, learner_id, lesson.id)
        return await self.show(session, learner_id, snippet_id)

    async def mark_done(self, session: AsyncSession, learner_id: int, lesson_id: str) -> Lesson:
        """Mark a lesson finished (idempotent: the first completion time is kept)."""
        lesson = self._lesson(lesson_id)
        now = utcnow()
        await insert_ignore(
            session,
            LessonProgress,
            learner_id=learner_id,
            lesson_id=lesson.id,
            last_snippet_id=lesson.snippets[-1].id,
            completed_at=now,
            updated_at=now,
        )
        await session.execute(
            update(LessonProgress)
            .where(
                LessonProgress.learner_id == learner_id,
                LessonProgress.lesson_id == lesson.id,
                LessonProgress.completed_at.is_(None),
            )
            .values(completed_at=now, updated_at=now)
        )
        return lesson
