"""/review: the learner's due questions, most overdue first, as a quiz of kind ``review``.

A review is an ordinary quiz attempt (:class:`~bot.services.quiz.QuizService`) over the due
questions, so its buttons, verdicts, explanations and exactly-once answers are the quiz's; its
answers update the memory cards with source ``review``. Per question, the learner may suspend
its card ("I know this": it never comes back for review) or reset it (its next answer starts
its schedule afresh). Ownership is always read from the database: the attempt's learner, and
the card of that learner.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Course, Question
from bot.db.base import utcnow
from bot.db.models import QuizAttempt, ReviewCard
from bot.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.services.quiz import DEFAULT_QUESTIONS, MAX_QUESTIONS, QuestionView, QuizService, Score

#: Questions one /review serves when the learner does not say.
DEFAULT_REVIEWS = 10
NOT_YOUR_REVIEW = "This review belongs to someone else. Start your own with /review."


@dataclass(frozen=True)
class ReviewStart:
    """What /review shows: the first due question, or when the next one will be."""

    question: QuestionView | None  # None: nothing is due now
    due: int  # questions due now (all of them, not only this review's)
    next_due: datetime | None  # with nothing due: when the next review is (None: no cards)
    new_questions: int  # questions of the course the learner has never answered
    in_dm: bool  # reviews in a DM earn no server points


@dataclass(frozen=True)
class CardAction:
    """The result of "I know this" or "Reset" on a review question."""

    question: Question
    action: str  # 'suspended' or 'reset'
    next_question: QuestionView | None  # after a suspension: the review's next question
    score: Score | None  # after a suspension: the review's score so far


class ReviewService:
    """Serves due questions and lets learners suspend or reset a question's card."""

    def __init__(
        self, course: Course, quiz: QuizService, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.course = course
        self.quiz = quiz
        self.clock = clock

    async def due_questions(
        self, session: AsyncSession, learner_id: int, now: datetime | None = None
    ) -> list[str]:
        """The learner's due questions still in the course, most overdue first."""
        rows = await session.execute(
            select(ReviewCard.question_id)
            .where(ReviewCard.learner_id == learner_id, ReviewCard.due <= (now or self.clock()),
                   ReviewCard.suspended.is_(False))
            .order_by(ReviewCard.due, ReviewCard.question_id)
        )
        return [q for (q,) in rows if q in self.course.questions]

    async def next_due(self, session: AsyncSession, learner_id: int) -> datetime | None:
        """When the learner's next review falls due (None: nothing to review, ever)."""
        dues = await session.execute(
            select(ReviewCard.question_id, ReviewCard.due)
            .where(ReviewCard.learner_id == learner_id, ReviewCard.suspended.is_(False))
            .order_by(ReviewCard.due)
        )
        return next((due for q, due in dues if q in self.course.questions), None)

    async def _unseen(self, session: AsyncSession, learner_id: int) -> list[str]:
        carded = set(await session.scalars(
            select(ReviewCard.question_id).where(ReviewCard.learner_id == learner_id)
        ))
        return [q for q in self.course.questions if q not in carded]

    async def start(
        self,
        session: AsyncSession,
        learner_id: int,
        *,
        guild_id: int | None,
        count: int | None = None,
        rng: random.Random | None = None,
    ) -> ReviewStart:
        """Start a review of up to ``count`` due questions, or say when the next one is due."""
        if count is not None and not 1 <= count <= MAX_QUESTIONS:
            raise InvalidInputError(f"A review has 1 to {MAX_QUESTIONS} questions.")
        due = await self.due_questions(session, learner_id)
        if not due:
            return ReviewStart(
                question=None, due=0, next_due=await self.next_due(session, learner_id),
                new_questions=len(await self._unseen(session, learner_id)),
                in_dm=guild_id is None,
            )
        view = await self.quiz.start(
            session, learner_id, guild_id=guild_id, rng=rng,
            question_ids=due[: count or DEFAULT_REVIEWS], kind="review",
        )
        return ReviewStart(question=view, due=len(due), next_due=None, new_questions=0,
                           in_dm=guild_id is None)

    async def start_new(
        self,
        session: AsyncSession,
        learner_id: int,
        *,
        guild_id: int | None,
        count: int | None = None,
        rng: random.Random | None = None,
    ) -> QuestionView:
        """A quiz of questions the learner has never answered (any, once none is left)."""
        rng = rng or random.Random()
        unseen = await self._unseen(session, learner_id)
        if not unseen:
            return await self.quiz.start(session, learner_id, guild_id=guild_id, count=count,
                                         rng=rng)
        rng.shuffle(unseen)
        return await self.quiz.start(session, learner_id, guild_id=guild_id, rng=rng,
                                     question_ids=unseen[: count or DEFAULT_QUESTIONS])

    async def due_count(
        self, session: AsyncSession, learner_id: int, now: datetime | None = None
    ) -> int:
        """How many of the learner's questions are due (suspended ones never are)."""
        return int(await session.scalar(
            select(func.count()).select_from(ReviewCard)
            .where(ReviewCard.learner_id == learner_id, ReviewCard.due <= (now or self.clock()),
                   ReviewCard.suspended.is_(False))
        ) or 0)

    async def _checked(
        self, session: AsyncSession, learner_id: int, attempt_id: int, question_id: str
    ) -> Question:
        """The question, once the attempt and the card are known to be this learner's."""
        owner = await session.scalar(
            select(QuizAttempt.learner_id).where(QuizAttempt.id == attempt_id)
        )
        if owner is None:
            raise NotFoundError("That review no longer exists. Start a new one with /review.")
        if owner != learner_id:
            raise NotAllowedError(NOT_YOUR_REVIEW)
        card = await session.scalar(
            select(ReviewCard.question_id).where(ReviewCard.learner_id == learner_id,
                                                 ReviewCard.question_id == question_id)
        )
        question = self.course.questions.get(question_id)
        if card is None or question is None:
            raise NotFoundError("That question is not in your reviews any more.")
        return question

    async def suspend(
        self, session: AsyncSession, learner_id: int, attempt_id: int, question_id: str
    ) -> CardAction:
        """"I know this": the card never comes back for review; the review moves on."""
        question = await self._checked(session, learner_id, attempt_id, question_id)
        await session.execute(
            update(ReviewCard)
            .where(ReviewCard.learner_id == learner_id, ReviewCard.question_id == question_id)
            .values(suspended=True)
        )
        following, score = await self.quiz.drop_question(session, attempt_id, learner_id,
                                                         question_id)
        return CardAction(question, "suspended", following, score)

    async def reset(
        self, session: AsyncSession, learner_id: int, attempt_id: int, question_id: str
    ) -> CardAction:
        """"Reset": the card forgets its history; the next answer starts it afresh."""
        question = await self._checked(session, learner_id, attempt_id, question_id)
        await session.execute(
            update(ReviewCard)
            .where(ReviewCard.learner_id == learner_id, ReviewCard.question_id == question_id)
            .values(due=self.clock(), stability=None, difficulty=None, state=1,
                    last_review=None, reps=0, lapses=0, suspended=False)
        )
        return CardAction(question, "reset", None, None)


__all__ = ["DEFAULT_REVIEWS", "NOT_YOUR_REVIEW", "CardAction", "ReviewService", "ReviewStart"]
