"""The quiz engine: attempts, answers recorded exactly once, scores and explanations.

Quiz state is plain data in SQL; a button only needs ``(attempt id, question id, choice id)``.
The question order and every choice shuffle are fixed by the attempt's seed, so a quiz shown
before a restart looks the same after it. The unique key ``(attempt_id, question_id)`` and
``INSERT ... ON CONFLICT DO NOTHING`` make a double click, or two clicks racing in different
processes, record one answer: the second click gets the first one's result back.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Choice, Course, Lesson, Question, QuestionKind, Snippet
from bot.db.base import utcnow
from bot.db.models import QuizAnswer, QuizAttempt
from bot.db.upsert import insert_ignore
from bot.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.services.memory import FirstAnswer, MemoryModel

_ATTEMPT_COLUMNS = (
    QuizAttempt.id,
    QuizAttempt.learner_id,
    QuizAttempt.guild_id,
    QuizAttempt.lesson_id,
    QuizAttempt.question_ids,
    QuizAttempt.seed,
    QuizAttempt.finished_at,
    QuizAttempt.kind,
)
_ATTEMPT_BY_ID = select(*_ATTEMPT_COLUMNS).where(QuizAttempt.id == bindparam("attempt_id"))
#: The attempt and its answers so far in one round trip (one row per answer, or one row of
#: NULL marks before the first answer): this runs on every click.
_ATTEMPT_WITH_MARKS = (
    select(*_ATTEMPT_COLUMNS, QuizAnswer.question_id.label("answered_id"), QuizAnswer.correct)
    .select_from(QuizAttempt)
    .outerjoin(QuizAnswer, QuizAnswer.attempt_id == QuizAttempt.id)
    .where(QuizAttempt.id == bindparam("attempt_id"))
)
_MARKS_BY_ATTEMPT = select(QuizAnswer.question_id, QuizAnswer.correct).where(
    QuizAnswer.attempt_id == bindparam("attempt_id")
)

DEFAULT_QUESTIONS = 5
MAX_QUESTIONS = 20
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text: str) -> float:
    """Read a number as a learner types it: ``54``, ``1,000``, ``0.5``, ``1e3``, ``-2``.

    Raises :class:`InvalidInputError` for anything else (words, NaN, infinity, empty).
    """
    cleaned = text.strip().replace("_", "").replace(" ", "").replace("\u202f", "")
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")  # a decimal comma: 0,5
    if len(cleaned) > 40 or not _NUMBER_RE.match(cleaned):
        shown = text.strip()[:40]
        raise InvalidInputError(
            f"\u201c{shown}\u201d is not a number. Type digits, e.g. `54` or `0.5`."
        )
    value = float(cleaned)
    if not math.isfinite(value):
        raise InvalidInputError("That number is too large. Type an ordinary number.")
    return value


class QuestionRemovedError(NotFoundError):
    """The question clicked was removed from the course (a live reload) after it was shown.

    Nothing is recorded for it. ``next_question`` is the attempt's next question still in the
    course when the caller knows it (:meth:`QuizService.next_question`), so the quiz goes on.
    """

    def __init__(self, next_question: QuestionView | None = None) -> None:
        self.next_question = next_question
        if next_question is not None:
            text = ("This question was removed from the course, so it doesn't count: here is "
                    "the next one.")
        else:
            text = ("This question was removed from the course, so it doesn't count. Your "
                    "other answers are kept; start a new /quiz to go on.")
        super().__init__(text)


def owned_attempt(attempt: Any, learner_id: int) -> Any:
    """The attempt row if it exists and belongs to ``learner_id``; otherwise a friendly error."""
    if attempt is None:
        raise NotFoundError("That quiz no longer exists. Start a new one with /quiz.")
    if attempt.learner_id != learner_id:
        raise NotAllowedError("This quiz belongs to someone else. Start your own with /quiz.")
    return attempt


def shuffled_choices(question: Question, seed: int) -> tuple[Choice, ...]:
    """The question's choices in the order this attempt shows them (true/false never shuffles)."""
    if question.kind is not QuestionKind.SINGLE:
        return question.choices
    order = list(question.choices)
    random.Random(f"{seed}:{question.id}").shuffle(order)
    return tuple(order)


@dataclass(frozen=True)
class QuestionView:
    """A question ready to show: its number in the attempt and its choices in shown order."""

    attempt_id: int
    question: Question
    number: int  # 1-based
    total: int
    choices: tuple[Choice, ...]
    lesson: Lesson | None = None  # the question's lesson, so adapters need not look it up
    kind: str = "quiz"  # 'review': a question /review served because it was due


@dataclass(frozen=True)
class Score:
    """How an attempt went so far."""

    attempt_id: int
    correct: int
    answered: int
    total: int
    finished: bool
    lesson: Lesson | None
    kind: str = "quiz"  # the attempt's kind: 'quiz' or 'review'


@dataclass(frozen=True)
class AnswerResult:
    """What a learner sees after answering: verdict, explanation, where to read more."""

    question: Question
    correct: bool
    given: str  # the answer as the learner gave it (choice text or number)
    already_answered: bool  # True: this click was a repeat and changed nothing
    snippet: Snippet | None
    lesson: Lesson | None
    score: Score
    next_question: QuestionView | None  # None when the attempt is finished
    #: When the question comes back for review, if this answer updated its memory card (the
    #: learner's first answer to it today); None otherwise.
    next_review: datetime | None = None


class QuizService:
    """Starts attempts, records answers exactly once, and scores them.

    A recorded answer also updates the learner's memory card of the question (``memory``), in
    the same transaction: a practice quiz's as source ``quiz``, a review attempt's as ``review``.
    """

    def __init__(
        self,
        course: Course,
        memory: MemoryModel | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.course = course
        self.memory = memory or MemoryModel()
        self.clock = clock  # a simulated month (bench/review_month.py) passes its own

    def pick_questions(self, lesson: Lesson | None, count: int, rng: random.Random) -> list[str]:
        """Choose ``count`` question ids: from one lesson, or across the course."""
        pool = list(lesson.questions) if lesson else list(self.course.questions.values())
        if not pool:
            raise NotFoundError("There are no questions for that yet. Try another lesson.")
        rng.shuffle(pool)
        return [q.id for q in pool[:count]]

    async def start(
        self,
        session: AsyncSession,
        learner_id: int,
        *,
        guild_id: int | None,
        lesson_id: str | None = None,
        count: int | None = None,
        rng: random.Random | None = None,
        question_ids: Sequence[str] | None = None,
        kind: str = "quiz",
    ) -> QuestionView:
        """Start a new attempt and return its first question.

        ``question_ids`` (questions of the course, in order) replaces the random pick: /review
        passes the due questions, with ``kind='review'``.
        """
        if count is not None and not 1 <= count <= MAX_QUESTIONS:
            raise InvalidInputError(f"A quiz has 1 to {MAX_QUESTIONS} questions.")
        lesson = None
        if lesson_id is not None:
            lesson = self.course.lesson(lesson_id)
            if lesson is None:
                raise NotFoundError("That lesson is no longer in the course. See /course.")
        rng = rng or random.Random()
        if question_ids is not None:
            ids = [q for q in question_ids if q in self.course.questions][:MAX_QUESTIONS]
            if not ids:
                raise NotFoundError("There are no questions for that yet. Try /quiz.")
        else:
            ids = self.pick_questions(lesson, count or DEFAULT_QUESTIONS, rng)
        attempt = QuizAttempt(
            learner_id=learner_id,
            guild_id=guild_id,
            lesson_id=lesson.id if lesson else None,
            question_ids=ids,
            seed=rng.randrange(2**31),
            started_at=self.clock(),
            kind=kind,
        )
        session.add(attempt)
        await session.flush()
        return self._view(attempt, 0)

    def _view(
        self, attempt: Any, index: int, total: int | None = None, number: int | None = None
    ) -> QuestionView:
        question = self.course.questions.get(attempt.question_ids[index])
        if question is None:
            raise NotFoundError(
                "This quiz uses a question that was removed from the course. Start a new one "
                "with /quiz."
            )
        return QuestionView(
            attempt_id=attempt.id,
            question=question,
            number=number if number is not None else index + 1,
            total=total if total is not None else len(attempt.question_ids),
            choices=shuffled_choices(question, attempt.seed),
            lesson=self.course.lesson(question.lesson_id),
            kind=attempt.kind,
        )

    def _askable(self, attempt: Any, answered: set[str]) -> list[str]:
        """The attempt's questions answered or still in the course (a reload may remove some)."""
        return [q for q in attempt.question_ids if q in answered or q in self.course.questions]

    def finished(self, attempt: Any, answered: set[str]) -> bool:
        """Whether every question of ``attempt`` still in the course has been answered.

        Questions removed from the course by a live reload are skipped, so an attempt open
        across a reload still finishes (its answers to them stay recorded).
        """
        return answered >= set(self._askable(attempt, answered))

    def _next_view(self, attempt: Any, answered: set[str]) -> QuestionView | None:
        """The first unanswered question still in the course, numbered among the askable ones."""
        askable = self._askable(attempt, answered)
        for number, question_id in enumerate(askable, start=1):
            if question_id not in answered:
                index = attempt.question_ids.index(question_id)
                return self._view(attempt, index, total=len(askable), number=number)
        return None

    async def next_question(
        self, session: AsyncSession, attempt_id: int, learner_id: int
    ) -> QuestionView | None:
        """The attempt's next unanswered question still in the course (``None``: none left)."""
        connection = await session.connection()
        rows = (await connection.execute(_ATTEMPT_WITH_MARKS, {"attempt_id": attempt_id})).all()
        attempt = owned_attempt(rows[0] if rows else None, learner_id)
        answered = {row.answered_id for row in rows if row.answered_id is not None}
        return self._next_view(attempt, answered)

    async def _attempt(self, session: AsyncSession, attempt_id: int, learner_id: int) -> Any:
        """The attempt's row (id, learner, guild, questions, seed, finish time), checked.

        A Core query: the ORM's identity map buys nothing here.
        """
        connection = await session.connection()
        attempt = (await connection.execute(_ATTEMPT_BY_ID, {"attempt_id": attempt_id})).first()
        return owned_attempt(attempt, learner_id)

    async def drop_question(
        self, session: AsyncSession, attempt_id: int, learner_id: int, question_id: str
    ) -> tuple[QuestionView | None, Score]:
        """Take an unanswered question out of the learner's attempt (e.g. "I know this").

        Returns the next unanswered question (None when none is left) and the score. A
        question already answered stays: its answer counts.
        """
        connection = await session.connection()
        rows = (await connection.execute(_ATTEMPT_WITH_MARKS, {"attempt_id": attempt_id})).all()
        attempt = owned_attempt(rows[0] if rows else None, learner_id)
        marks = {row.answered_id: row.correct for row in rows if row.answered_id is not None}
        if question_id not in attempt.question_ids:
            raise NotFoundError("That question is not part of this quiz.")
        ids = list(attempt.question_ids)
        answered = set(marks)
        if question_id not in answered:
            ids.remove(question_id)
        kept = SimpleNamespace(**{**attempt._asdict(), "question_ids": ids})
        finished = self.finished(kept, answered)
        if question_id not in answered:
            await session.execute(
                update(QuizAttempt)
                .where(QuizAttempt.id == attempt.id)
                .values(question_ids=ids, finished_at=self.clock() if finished else None)
            )
        score = Score(
            attempt_id=attempt.id,
            correct=sum(bool(c) for c in marks.values()),
            answered=len(answered),
            total=len(self._askable(kept, answered)),
            finished=finished,
            lesson=self.course.lesson(attempt.lesson_id or ""),
            kind=attempt.kind,
        )
        return (None if finished else self._next_view(kept, answered)), score

    async def record_answer(
        self,
        session: AsyncSession,
        attempt_id: int,
        learner_id: int,
        question_id: str,
        *,
        choice_id: str | None = None,
        value: float | None = None,
    ) -> AnswerResult:
        """Record the learner's answer to one question of their attempt, exactly once.

        A repeated or concurrent answer to the same question records nothing and returns the
        answer that was recorded first, with ``already_answered=True``. Answers are checked
        exactly: a choice id, or a number within the question's tolerance.
        """
        connection = await session.connection()
        rows = (await connection.execute(_ATTEMPT_WITH_MARKS, {"attempt_id": attempt_id})).all()
        attempt = owned_attempt(rows[0] if rows else None, learner_id)
        marks = {row.answered_id: row.correct for row in rows if row.answered_id is not None}
        question, correct = self.grade(attempt, question_id, choice_id=choice_id, value=value)
        now = self.clock()
        # The unique key decides, not the marks read above: another process may have recorded
        # this question in between (PostgreSQL reads do not block writers).
        already = question.id in marks or not await insert_ignore(
            session,
            QuizAnswer,
            attempt_id=attempt.id,
            learner_id=learner_id,
            guild_id=attempt.guild_id,
            lesson_id=question.lesson_id,
            question_id=question.id,
            choice_id=choice_id,
            value=value,
            correct=correct,
            answered_at=now,
        )
        if already:
            first = (
                await session.execute(
                    select(QuizAnswer.choice_id, QuizAnswer.value, QuizAnswer.correct).where(
                        QuizAnswer.attempt_id == attempt.id,
                        QuizAnswer.question_id == question.id,
                    )
                )
            ).one()
            choice_id, value, correct = first.choice_id, first.value, first.correct
            marks = {
                row.question_id: row.correct
                for row in await connection.execute(_MARKS_BY_ATTEMPT, {"attempt_id": attempt.id})
            }
        else:
            marks[question.id] = correct
        next_review = None
        if not already:
            # The memory card, in this transaction: one call per answer path (see memory.py).
            changed = await self.memory.record(connection, [FirstAnswer(
                learner_id, question.id, bool(correct), now,
                "review" if attempt.kind == "review" else "quiz", attempt.guild_id,
            )])
            next_review = changed[0].due if changed else None
        if attempt.finished_at is None and self.finished(attempt, set(marks)):
            await session.execute(
                update(QuizAttempt)
                .where(QuizAttempt.id == attempt.id, QuizAttempt.finished_at.is_(None))
                .values(finished_at=now)
            )
        return self.result(
            attempt, question, choice_id=choice_id, value=value, correct=bool(correct),
            already=already, marks=marks, next_review=next_review,
        )

    def grade(
        self, attempt: Any, question_id: str, *, choice_id: str | None, value: float | None
    ) -> tuple[Question, bool]:
        """Check an answer to one question of ``attempt`` (an owned attempt row) and grade it.

        Raises a :class:`~bot.errors.TutorError` a learner can read: a question not in the
        attempt or gone from the course, a choice that is not one of the question's, a number
        for a choice question or the other way round. Writes nothing: the single answer path
        (:meth:`record_answer`) and the batched one (:mod:`bot.services.answer_batch`) share it.
        """
        if question_id not in attempt.question_ids:
            raise NotFoundError("That question is not part of this quiz.")
        question = self.course.questions.get(question_id)
        if question is None:  # removed by a live reload since it was shown
            raise QuestionRemovedError()
        if question.kind is QuestionKind.NUMERIC:
            if value is None or choice_id is not None:
                raise InvalidInputError("This question needs a number as its answer.")
            return question, question.is_correct_number(value)
        if choice_id is None or question.choice(choice_id) is None:
            raise InvalidInputError("That is not one of this question's choices.")
        return question, question.is_correct_choice(choice_id)

    def result(
        self,
        attempt: Any,
        question: Question,
        *,
        choice_id: str | None,
        value: float | None,
        correct: bool,
        already: bool,
        marks: dict[str, bool],
        next_review: datetime | None = None,
    ) -> AnswerResult:
        """What the learner sees once an answer is recorded.

        ``choice_id``/``value``/``correct`` are the *recorded* (first) answer to ``question``;
        ``marks`` is every recorded answer of the attempt by question id (right or wrong),
        this one included; ``next_review`` is when its memory card comes due, if this answer
        updated it.
        """
        answered = set(marks)
        finished = self.finished(attempt, answered)
        next_view = None if finished else self._next_view(attempt, answered)
        if question.kind is QuestionKind.NUMERIC:
            given = f"{value:g}"
        else:
            chosen = question.choice(choice_id or "")
            given = chosen.text if chosen else str(choice_id)
        return AnswerResult(
            question=question,
            correct=correct,
            given=given,
            already_answered=already,
            snippet=self.course.snippets.get(question.snippet_id),
            lesson=self.course.lesson(question.lesson_id),
            score=Score(
                attempt_id=attempt.id,
                correct=sum(marks.values()),
                answered=len(answered),
                total=len(self._askable(attempt, answered)),
                finished=finished,
                lesson=self.course.lesson(attempt.lesson_id or ""),
                kind=attempt.kind,
            ),
            next_question=next_view,
            next_review=next_review,
        )
