"""Feedback from learners: ratings, comments and question reports, stored with their context.

Three kinds, each stored with where it was given (lesson, snippet, question, quiz answer, /ask
answer, guild): a lesson rating (1–5, with an optional comment), feedback on an ``/ask`` answer
(👍/👎 and "tell us why"), and a report on a quiz question (a reason and a comment). Free text
passes :func:`bot.services.sanitize.clean_text`; a learner may leave at most
:data:`RATE_LIMIT_COUNT` written pieces per :data:`RATE_LIMIT_WINDOW` (thumbs are not counted:
they replace each other). The maintainers' review is :mod:`bot.services.maintain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Course
from bot.db.base import utcnow
from bot.db.models import Feedback, QuizAnswer
from bot.db.models.ask import AskLog
from bot.errors import InvalidInputError, NotAllowedError, NotFoundError, RateLimitedError
from bot.services.sanitize import clean_text

MAX_COMMENT_CHARS = 1000
RATINGS = {-1, 1, 2, 3, 4, 5}  # -1/+1 from thumbs, or 1..5 stars
THUMBS = {-1, 1}
#: Why a learner reports a quiz question, with the label they pick from.
REPORT_REASONS = {
    "wrong_answer": "The keyed answer is wrong",
    "unclear": "The question is unclear",
    "typo": "A typo or a broken sentence",
    "other": "Something else",
}
RATE_LIMIT_COUNT = 10
RATE_LIMIT_WINDOW = timedelta(hours=1)


NOT_YOUR_ANSWER = "Only the person who asked can say why this answer missed."


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
        reason: str | None = None,
    ) -> Feedback:
        """Store one piece of feedback. Needs a rating, a comment, or both.

        The kind follows from the context: an ``/ask`` answer, else a quiz question, else a
        lesson. A question report carries a ``reason`` from :data:`REPORT_REASONS`.
        """
        raw = (comment or "").strip()
        if len(raw) > MAX_COMMENT_CHARS:
            raise InvalidInputError(
                f"Please keep comments under {MAX_COMMENT_CHARS} characters "
                f"(yours has {len(raw)})."
            )
        text = clean_text(raw, MAX_COMMENT_CHARS)
        if rating is None and not text and reason is None:
            raise InvalidInputError("Give a rating or write a comment (or both).")
        if rating is not None and rating not in RATINGS:
            raise InvalidInputError("A rating is 1 to 5 (or thumbs up / down).")
        if reason is not None and reason not in REPORT_REASONS:
            raise InvalidInputError(
                "Pick one of the reasons: " + ", ".join(REPORT_REASONS.values()) + "."
            )
        if reason is not None and context.question_id is None:
            raise InvalidInputError("Only a quiz question can be reported.")
        if text or reason is not None:
            await self._check_rate(session, learner_id)
        if rating is None and not text:
            text = REPORT_REASONS[reason or "other"]
        lesson_id = context.lesson_id
        if lesson_id is None and context.question_id in self.course.questions:
            lesson_id = self.course.questions[context.question_id].lesson_id
        if lesson_id is None and context.snippet_id in self.course.snippets:
            lesson_id = self.course.snippets[context.snippet_id].lesson_id
        if context.ask_log_id is not None:
            kind = "ask"
        elif context.question_id is not None:
            kind = "question"
        else:
            kind = "lesson"
        feedback = Feedback(
            learner_id=learner_id,
            kind=kind,
            reason=reason,
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

    async def _check_rate(self, session: AsyncSession, learner_id: int) -> None:
        """Refuse a learner's written feedback past :data:`RATE_LIMIT_COUNT` an hour."""
        since = utcnow() - RATE_LIMIT_WINDOW
        recent = await session.scalar(
            select(func.count(Feedback.id)).where(
                Feedback.learner_id == learner_id,
                Feedback.created_at >= since,
                Feedback.comment.is_not(None),
            )
        )
        if (recent or 0) >= RATE_LIMIT_COUNT:
            raise RateLimitedError(
                f"Thanks, you have sent {RATE_LIMIT_COUNT} notes in the last hour, which is our "
                "limit. Please try again a little later: everything you sent so far is saved."
            )

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

    async def check_asker(self, session: AsyncSession, ask_log_id: int, learner_id: int) -> None:
        """Refuse unless ``learner_id`` asked the /ask answer ``ask_log_id``.

        The answer id comes from a button's custom id, which a client can forge: the asker is
        read from the answer's log row, never from the id.
        """
        asker = await session.scalar(select(AskLog.learner_id).where(AskLog.id == ask_log_id))
        if asker is None:
            raise NotFoundError("That answer is no longer on record.")
        if asker != learner_id:
            raise NotAllowedError(NOT_YOUR_ANSWER)

    async def reporters_answer(
        self, session: AsyncSession, attempt_id: int, question_id: str, learner_id: int
    ) -> int | None:
        """The id of the reporter's own quiz answer to ``question_id`` in ``attempt_id``, if any.

        The attempt comes from a custom id (input): the answer is linked only if this learner
        gave it, so a forged attempt id links nothing.
        """
        return await session.scalar(
            select(QuizAnswer.id).where(
                QuizAnswer.attempt_id == attempt_id,
                QuizAnswer.question_id == question_id,
                QuizAnswer.learner_id == learner_id,
            )
        )

    async def recent(self, session: AsyncSession, limit: int = 50) -> list[Feedback]:
        """The newest feedback first (for maintainers' tools)."""
        rows = await session.scalars(
            select(Feedback).order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)
        )
        return list(rows)
