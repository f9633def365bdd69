"""The quiz engine on SQLite and PostgreSQL: attempts, exactly-once answers, scores."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import func, select

from bot.app import AppContext
from bot.content.model import QuestionKind
from bot.db.models import QuizAnswer, QuizAttempt
from bot.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.services.quiz import parse_number, shuffled_choices

LEARNER, OTHER, GUILD = 111, 222, 999


async def _start(app: AppContext, lesson: str | None = "fx-genai", learner: int = LEARNER,
                 guild: int | None = GUILD, seed: int = 1) -> int:
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, learner, f"L{learner}", guild_id=guild)
        view = await app.services.quiz.start(session, learner, guild_id=guild, lesson_id=lesson,
                                             count=3, rng=random.Random(seed))
        return view.attempt_id


def _right(app: AppContext, question_id: str) -> dict[str, object]:
    question = app.course.questions[question_id]
    if question.kind is QuestionKind.NUMERIC:
        return {"value": question.answer_number}
    return {"choice_id": question.answer_choice}


async def test_answering_every_question_finishes_with_a_score(app: AppContext) -> None:
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, LEARNER, "L", guild_id=GUILD)
        view = await app.services.quiz.start(session, LEARNER, guild_id=GUILD,
                                             lesson_id="fx-genai", count=3,
                                             rng=random.Random(1))
    attempt_id = view.attempt_id
    assert view.number == 1 and view.total == 3
    results = []
    while view is not None:
        async with app.db.sessions.begin() as session:
            result = await app.services.quiz.record_answer(
                session, attempt_id, LEARNER, view.question.id, **_right(app, view.question.id)
            )
        results.append(result)
        view = result.next_question
    assert [r.correct for r in results] == [True, True, True]
    final = results[-1].score
    assert (final.correct, final.answered, final.total, final.finished) == (3, 3, 3, True)
    async with app.db.sessions.begin() as session:
        attempt = await session.get(QuizAttempt, attempt_id)
        assert attempt is not None and attempt.finished_at is not None
        assert attempt.finished_at.tzinfo is not None


async def test_a_repeated_answer_is_recorded_once_and_returns_the_first(app: AppContext) -> None:
    attempt_id = await _start(app)
    question = app.course.questions["fx-genai.q1"]
    wrong = next(c.id for c in question.choices if c.id != question.answer_choice)
    async with app.db.sessions.begin() as session:
        first = await app.services.quiz.record_answer(
            session, attempt_id, LEARNER, question.id, choice_id=wrong)
    async with app.db.sessions.begin() as session:
        second = await app.services.quiz.record_answer(
            session, attempt_id, LEARNER, question.id, choice_id=question.answer_choice)
    assert first.correct is False and first.already_answered is False
    # The second click changes nothing: it reports the first, wrong, answer.
    assert second.already_answered is True and second.correct is False
    async with app.db.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(QuizAnswer))
    assert count == 1


async def test_concurrent_clicks_record_exactly_one_answer(app: AppContext) -> None:
    attempt_id = await _start(app)
    question = app.course.questions["fx-genai.q2"]

    async def click() -> bool:
        async with app.db.sessions.begin() as session:
            result = await app.services.quiz.record_answer(
                session, attempt_id, LEARNER, question.id, choice_id="true")
            return result.already_answered

    outcomes = await asyncio.gather(*(click() for _ in range(8)))
    assert sorted(outcomes) == [False] + [True] * 7
    async with app.db.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(QuizAnswer))
    assert count == 1


async def test_numeric_answers_use_the_stated_tolerance(app: AppContext) -> None:
    attempt_id = await _start(app)
    async with app.db.sessions.begin() as session:
        near = await app.services.quiz.record_answer(
            session, attempt_id, LEARNER, "fx-genai.q3", value=171)  # 175 +- 5
    assert near.correct
    attempt_id = await _start(app, seed=2)
    async with app.db.sessions.begin() as session:
        far = await app.services.quiz.record_answer(
            session, attempt_id, LEARNER, "fx-genai.q3", value=181)
    assert not far.correct and far.given == "181"


async def test_choices_are_checked_exactly_not_by_substring(app: AppContext) -> None:
    attempt_id = await _start(app)
    with pytest.raises(InvalidInputError):
        async with app.db.sessions.begin() as session:
            await app.services.quiz.record_answer(
                session, attempt_id, LEARNER, "fx-genai.q1", choice_id="spa")
    with pytest.raises(InvalidInputError):
        async with app.db.sessions.begin() as session:
            await app.services.quiz.record_answer(
                session, attempt_id, LEARNER, "fx-genai.q1", choice_id="SPAM")
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(QuizAnswer)) == 0


async def test_someone_elses_quiz_and_unknown_quizzes_are_refused(app: AppContext) -> None:
    attempt_id = await _start(app)
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, OTHER, "other")
    with pytest.raises(NotAllowedError, match="someone else"):
        async with app.db.sessions.begin() as session:
            await app.services.quiz.record_answer(
                session, attempt_id, OTHER, "fx-genai.q1", choice_id="spam")
    with pytest.raises(NotFoundError, match="no longer exists"):
        async with app.db.sessions.begin() as session:
            await app.services.quiz.record_answer(
                session, attempt_id + 1000, LEARNER, "fx-genai.q1", choice_id="spam")
    with pytest.raises(NotFoundError, match="not part of this quiz"):
        async with app.db.sessions.begin() as session:
            await app.services.quiz.record_answer(
                session, attempt_id, LEARNER, "fx-nn.q1", value=10)


async def test_a_failed_unit_of_work_leaves_no_half_written_attempt(app: AppContext) -> None:
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, LEARNER, "L")
    with pytest.raises(RuntimeError):
        async with app.db.sessions.begin() as session:
            await app.services.quiz.start(session, LEARNER, guild_id=None, lesson_id="fx-nn")
            raise RuntimeError("crash between the attempt and anything else")
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(QuizAttempt)) == 0


async def test_shuffles_are_stable_per_attempt_and_vary_between_attempts(app: AppContext) -> None:
    question = app.course.questions["fx-nn.q2"]
    assert shuffled_choices(question, 7) == shuffled_choices(question, 7)
    orders = {tuple(c.id for c in shuffled_choices(question, seed)) for seed in range(30)}
    assert len(orders) > 1
    assert {c.id for c in shuffled_choices(question, 7)} == {c.id for c in question.choices}


@pytest.mark.parametrize(
    ("text", "value"),
    [("54", 54.0), (" 1,000 ", 1000.0), ("0.5", 0.5), ("0,5", 0.5), ("-2", -2.0), ("1e3", 1000.0)],
)
def test_parse_number_reads_what_learners_type(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "fifty", "nan", "inf", "1e999", "12abc", "9" * 50])
def test_parse_number_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_number(text)
