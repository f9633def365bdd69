"""ReviewService: due questions most overdue first, suspend and reset checked against the DB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import AppContext
from bot.db.models import ReviewCard
from bot.errors import NotAllowedError, NotFoundError
from bot.services.memory import FirstAnswer, MemoryModel

ME, OTHER = 71, 72
NOW = datetime.now(UTC)


async def _seed(app: AppContext, learner: int, answers: list[tuple[str, int, bool]]) -> None:
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, learner, f"L{learner}")
        for question, days_ago, right in answers:
            await MemoryModel(fuzz=False).record(await session.connection(), [FirstAnswer(
                learner, question, right, NOW - timedelta(days=days_ago), "quiz")])


async def test_due_questions_most_overdue_first_and_suspend_and_reset(app: AppContext) -> None:
    await _seed(app, ME, [("fx-nn.q3", 10, True), ("fx-genai.q1", 30, False),
                          ("fx-genai.q2", 20, True), ("fx-nn.q1", 0, True)])  # the last: not due
    async with app.db.sessions.begin() as session:
        due = await app.services.review.due_questions(session, ME)
        assert due == ["fx-genai.q1", "fx-genai.q2", "fx-nn.q3"]
        assert await app.services.review.due_count(session, ME) == 3
        start = await app.services.review.start(session, ME, guild_id=5, count=2)
    assert start.question is not None and start.due == 3 and not start.in_dm
    assert (start.question.number, start.question.total) == (1, 2)
    attempt = start.question.attempt_id

    # Only the attempt's learner may act on it, and only on a card they have.
    async with app.db.sessions.begin() as session:
        with pytest.raises(NotAllowedError):
            await app.services.review.suspend(session, OTHER, attempt, "fx-genai.q1")
        with pytest.raises(NotFoundError):
            await app.services.review.reset(session, ME, attempt, "fx-nn.q2")  # no card
        with pytest.raises(NotFoundError):
            await app.services.review.suspend(session, ME, 10**9, "fx-genai.q1")

    async with app.db.sessions.begin() as session:
        done = await app.services.review.suspend(session, ME, attempt, "fx-genai.q1")
    assert done.next_question is not None and done.next_question.question.id == "fx-genai.q2"
    assert (done.next_question.number, done.next_question.total) == (1, 1)
    async with app.db.sessions.begin() as session:
        assert await app.services.review.due_questions(session, ME) == ["fx-genai.q2", "fx-nn.q3"]
        reset = await app.services.review.reset(session, ME, attempt, "fx-genai.q2")
        assert reset.action == "reset"
        card = await session.get(ReviewCard, (ME, "fx-genai.q2"))
        assert card is not None and card.stability is None and card.state == 1
    # Suspending the last unanswered question finishes the review.
    async with app.db.sessions.begin() as session:
        last = await app.services.review.suspend(session, ME, attempt, "fx-genai.q2")
    assert last.next_question is None and last.score is not None and last.score.finished


async def test_a_wrong_answer_lifts_i_know_this(app: AppContext) -> None:
    await _seed(app, ME, [("fx-genai.q1", 30, True)])
    async with app.db.sessions.begin() as session:
        start = await app.services.review.start(session, ME, guild_id=None)
        assert start.question is not None and start.in_dm
        await app.services.review.suspend(session, ME, start.question.attempt_id, "fx-genai.q1")
        assert await app.services.review.due_count(session, ME) == 0
        nothing = await app.services.review.start(session, ME, guild_id=None)
    assert nothing.question is None and nothing.next_due is None
    assert nothing.new_questions == len(app.course.questions) - 1
    async with app.db.sessions.begin() as session:
        await MemoryModel(fuzz=False).record(await session.connection(), [
            FirstAnswer(ME, "fx-genai.q1", False, NOW, "quiz")])
        card = await session.get(ReviewCard, (ME, "fx-genai.q1"))
        assert card is not None and not card.suspended
        again = await app.services.review.start(session, ME, guild_id=None)
    assert again.question is None and again.next_due is not None and again.next_due > NOW


async def test_new_questions_are_the_ones_never_answered(app: AppContext) -> None:
    answered = [(q, 3, True) for q in list(app.course.questions)[:4]]
    await _seed(app, ME, answered)
    async with app.db.sessions.begin() as session:
        view = await app.services.review.start_new(session, ME, guild_id=None, count=5)
    assert view.kind == "quiz" and view.total == len(app.course.questions) - 4
    assert view.question.id not in {q for q, _, _ in answered}
