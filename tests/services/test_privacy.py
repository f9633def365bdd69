"""/forget-me: no row names the learner afterwards, and the statistics stay true."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from bot.app import AppContext
from bot.db.models import Feedback, Learner, QuizAnswer
from bot.db.models.ask import AskLog
from bot.services.feedback import FeedbackContext
from bot.services.item_analysis import analyse, first_answers
from bot.services.privacy import (
    LEARNER_COLUMNS,
    forget_learner,
    person_columns,
    rows_naming,
    unregistered_person_columns,
)

GUILD = 31
ME, OTHER = 1001, 1002


async def _activity(app: AppContext, learner: int) -> None:
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, learner, f"name{learner}", guild_id=GUILD)
        view = await app.services.quiz.start(session, learner, guild_id=GUILD,
                                             lesson_id="fx-genai", count=3, rng=random.Random(2))
        await app.services.quiz.record_answer(session, view.attempt_id, learner, "fx-genai.q1",
                                              choice_id="spam")
        await app.services.course.open_lesson(session, learner, "fx-genai")
        await app.services.course.mark_done(session, learner, "fx-genai")
        await app.services.feedback.record(session, learner, rating=5, comment="my secret words",
                                           context=FeedbackContext(lesson_id="fx-genai",
                                                                   guild_id=GUILD))
        await app.services.feedback.record(session, learner, comment="only words",
                                           context=FeedbackContext(question_id="fx-genai.q1",
                                                                   guild_id=GUILD))
        session.add(AskLog(learner_id=learner, guild_id=GUILD, question="my private question",
                           answer="an answer", engine="local", latency_ms=3, citations=[]))


def test_every_column_naming_a_person_has_a_policy() -> None:
    """A new table with a learner column must say what forgetting does with it."""
    assert unregistered_person_columns() == []
    assert ("quiz_answer", "learner_id") in LEARNER_COLUMNS


async def test_forget_me_leaves_no_row_naming_the_learner(app: AppContext) -> None:
    await _activity(app, ME)
    await _activity(app, OTHER)
    async with app.db.sessions.begin() as session:
        assert await rows_naming(session, ME)  # plenty before
        before = analyse(app.course, await first_answers(session), min_answers=1)
        done = await forget_learner(session, ME)
    assert done.existed and done.moved["quiz_answer"] == 1
    async with app.db.sessions.begin() as session:
        assert await rows_naming(session, ME) == {}
        # The statistics are unchanged: the answer moved to a pseudonym, not deleted.
        after = analyse(app.course, await first_answers(session), min_answers=1)
        assert [(s.question_id, s.learners, s.correct) for s in after] == [
            (s.question_id, s.learners, s.correct) for s in before]
        # No free text is left from the forgotten learner; the other learner's is untouched.
        comments = set(await session.scalars(select(Feedback.comment)))
        assert "my secret words" in comments  # OTHER's identical comment stays
        assert await session.scalar(select(func.count()).select_from(Feedback).where(
            Feedback.learner_id < 0, Feedback.comment.is_not(None))) == 0
        questions = list(await session.scalars(select(AskLog.question).order_by(AskLog.id)))
        assert questions.count("my private question") == 1 and "" in questions
        # One fresh pseudonym, kept off the leaderboard.
        pseudonyms = list(await session.scalars(select(Learner).where(Learner.pseudonym)))
        assert len(pseudonyms) == 1 and pseudonyms[0].id < 0 and pseudonyms[0].display_name == ""
        board = await app.services.progress.leaderboard(session, GUILD)
        assert [e.learner_id for e in board] == [OTHER]
        answers = await session.scalar(select(func.count()).select_from(QuizAnswer).where(
            QuizAnswer.learner_id == pseudonyms[0].id))
        assert answers == 1


async def test_each_forgotten_learner_gets_their_own_pseudonym(app: AppContext) -> None:
    await _activity(app, ME)
    await _activity(app, OTHER)
    async with app.db.sessions.begin() as session:
        await forget_learner(session, ME)
        await forget_learner(session, OTHER)
    async with app.db.sessions.begin() as session:
        owners = set(await session.scalars(select(QuizAnswer.learner_id)))
    assert len(owners) == 2 and all(o < 0 for o in owners)


async def test_forgetting_twice_or_a_stranger_finds_nothing(app: AppContext) -> None:
    await _activity(app, ME)
    async with app.db.sessions.begin() as session:
        assert (await forget_learner(session, ME)).existed
    async with app.db.sessions.begin() as session:
        again = await forget_learner(session, ME)
        stranger = await forget_learner(session, 424242)
    assert not again.existed and not stranger.existed
    assert "nothing to forget" in stranger.summary()


def test_person_columns_finds_foreign_keys_and_user_id_names() -> None:
    from bot.db.base import Base

    tables = {t.name: t for t in Base.metadata.sorted_tables}
    assert person_columns(tables["quiz_answer"]) == ["learner_id"]
    assert "resolved_by" in person_columns(tables["feedback"])


async def test_forget_me_deletes_review_cards_logs_and_reminders(app: AppContext) -> None:
    """Spaced repetition describes the person, not the question: it goes, not to a pseudonym."""
    from datetime import time

    from bot.db.models import Reminder, ReviewCard, ReviewLog

    await _activity(app, ME)  # the quiz answer made a card and a review log
    await _activity(app, OTHER)
    async with app.db.sessions.begin() as session:
        session.add(Reminder(learner_id=ME, enabled=True, local_time=time(8, 0), min_due=3,
                             off_reason=None, notice_pending=True))
    async with app.db.sessions.begin() as session:
        for model in (ReviewCard, ReviewLog):
            assert await session.scalar(select(func.count()).select_from(model).where(
                model.learner_id == ME)) == 1
        done = await forget_learner(session, ME)
    assert done.deleted["review_card"] == done.deleted["review_log"] == 1
    assert done.deleted["reminder"] == 1
    async with app.db.sessions.begin() as session:
        for model in (ReviewCard, ReviewLog, Reminder):
            owners = set(await session.scalars(select(model.learner_id)))
            assert owners <= {OTHER}, model.__tablename__
        assert await session.scalar(select(func.count()).select_from(ReviewCard)) == 1
