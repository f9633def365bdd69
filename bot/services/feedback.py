"""Feedback from learners: ratings and comments, stored with the context they were given in.

The Discord feature and the maintainers' review come in their own issues; this is the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Course
from bot.db.base import utcnow
from bot.db.models import Feedback
from bot.db.models.ask import AskLog
from bot.errors import InvalidInputError, NotFoundError

MAX_COMMENT_CHARS = 1000
RATINGS = {-1, 1, 2, 3, 4, 5}  # -1/+1 from thumbs, or 1..5 stars
THUMBS = {-1, 1}


@dataclass(frozen=True)
class FeedbackContext:
    """Where feedback was given: any of lesson, snippet, question, answer; all optional."""

    lesson_id: str | None = None
    snippet_id: str | None = None
    question_id: str | None = None
    quiz_answer_id: int | None = None
    ask_log_id: int | None = None  # feedback on an /ask answer
    guild_id: int | None = None


class FeedbackService:
    """Validates and stores feedback."""

    def __init__(self, course: Course) -> None:
        self.course = course

    async def record(
        self,
        session: AsyncSession,
        learner_id: int,
        *,
        rating: int | None = None,
        comment: str | None = None,
        context: FeedbackContext = FeedbackContext(),
    ) -> Feedback:
        """Store one piece of feedback. Needs a rating, a comment, or both."""
        text = (comment or "").strip()
        if rating is None and not text:
            raise InvalidInputError("Give a rating or write a comment (or both).")
        if rating is not None and rating not in RATINGS:
            raise InvalidInputError("A rating is 1 to 5 (or thumbs up / down).")
        if len(text) > MAX_COMMENT_CHARS:
            raise InvalidInputError(
                f"Please keep comments under {MAX_COMMENT_CHARS} characters "
                f"(yours has {len(text)})."
            )
        lesson_id = context.lesson_id
        if lesson_id is None and context.question_id in self.course.questions:
            lesson_id = self.course.questions[context.question_id].lesson_id
        if lesson_id is None and context.snippet_id in self.course.snippets:
            lesson_id = self.course.snippets[context.snippet_id].lesson_id
        feedback = Feedback(
            learner_id=learner_id,
            guild_id=context.guild_id,
            rating=rating,
            comment=text or None,
            lesson_id=lesson_id,
            snippet_id=context.snippet_id,
            question_id=context.question_id,
            quiz_answer_id=context.quiz_answer_id,
            ask_log_id=context.ask_log_id,
        )
        session.add(feedback)
        await session.flush()
        return feedback

    async def rate_answer(
        self,
        session: AsyncSession,
        learner_id: int,
        ask_log_id: int,
        rating: int,
        *,
        guild_id: int | None = None,
    ) -> Feedback:
        """Store a learner's 👍 (``1``) or 👎 (``-1``) on an /ask answer: one per learner and answer.

        Rating the same answer again replaces the earlier thumb (and its time) instead of adding
        a row, so a double click or a change of mind never counts twice. The answer's log row is
        locked first, so two clicks at the same moment cannot both insert (PostgreSQL; SQLite
        transactions are serial already). Comments on the answer are separate rows, untouched.
        """
        if rating not in THUMBS:
            raise InvalidInputError("An answer is rated thumbs up or thumbs down.")
        answer = await session.scalar(
            select(AskLog.id).where(AskLog.id == ask_log_id).with_for_update()
        )
        if answer is None:
            raise NotFoundError(
                "That answer is no longer on record, so it can't be rated. Ask again with /ask."
            )
        existing = await session.scalar(
            select(Feedback)
            .where(
                Feedback.learner_id == learner_id,
                Feedback.ask_log_id == ask_log_id,
                Feedback.comment.is_(None),
                Feedback.rating.is_not(None),
            )
            .order_by(Feedback.id)
            .limit(1)
        )
        if existing is None:
            return await self.record(
                session,
                learner_id,
                rating=rating,
                context=FeedbackContext(ask_log_id=ask_log_id, guild_id=guild_id),
            )
        existing.rating = rating
        existing.created_at = utcnow()
        await session.flush()
        return existing

    async def recent(self, session: AsyncSession, limit: int = 50) -> list[Feedback]:
        """The newest feedback first (for maintainers' tools)."""
        rows = await session.scalars(
            select(Feedback).order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)
        )
        return list(rows)
