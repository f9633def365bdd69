"""Practice-quiz answers on the batched answer path, on SQLite and PostgreSQL.

Many learners answering at once share one transaction of multi-row statements; each answer is
still recorded exactly once per (attempt, question), checked against its attempt's owner, and a
bad answer (or a row the database refuses) fails alone.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from bot.app import AppContext
from bot.content.model import QuestionKind
from bot.db.base import utcnow
from bot.db.models import QuizAnswer, QuizAttempt
from bot.db.models.daily import DailyAnswer
from bot.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.services.answer_batch import AnswerBatcher
from bot.services.quiz import AnswerResult

GUILD = 999


async def _attempt(app: AppContext, learner: int, *, seed: int = 1, count: int = 3) -> int:
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, learner, f"L{learner}", guild_id=GUILD)
        view = await app.services.quiz.start(session, learner, guild_id=GUILD,
                                             lesson_id="fx-genai", count=count,
                                             rng=random.Random(seed))
        return view.attempt_id


def _answer(app: AppContext, question_id: str, *, right: bool) -> dict[str, object]:
    question = app.course.questions[question_id]
    if question.kind is QuestionKind.NUMERIC:
        assert question.answer_number is not None
        return {"value": question.answer_number + (0 if right else 100)}
    if right:
        return {"choice_id": question.answer_choice}
    return {"choice_id": next(c.id for c in question.choices if c.id != question.answer_choice)}


async def _count(app: AppContext, model: type) -> int:
    async with app.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_burst_of_practice_answers_shares_commits_and_records_each_once(
    app: AppContext,
) -> None:
    learners = list(range(1000, 1060))
    attempts = {lid: await _attempt(app, lid, seed=lid) for lid in learners}
    batcher = app.answers
    quiz = app.services.quiz
    questions = ["fx-genai.q1", "fx-genai.q2", "fx-genai.q3"]
    results: list[AnswerResult] = []
    for question in questions:  # every learner answers each question at once, in three bursts
        clicks = [
            batcher.record_practice(quiz, attempts[lid], lid, question,
                                    **_answer(app, question, right=lid % 2 == 0))  # type: ignore[arg-type]
            for lid in learners
        ]
        # Double clicks in the same burst, the other way: the first answer stands.
        clicks += [
            batcher.record_practice(quiz, attempts[lid], lid, question,
                                    **_answer(app, question, right=lid % 2 == 1))  # type: ignore[arg-type]
            for lid in learners[:10]
        ]
        batches_before = batcher.batches
        results += await asyncio.gather(*clicks)
        assert batcher.batches - batches_before < 10  # the answers shared transactions
    firsts = [r for r in results if not r.already_answered]
    repeats = [r for r in results if r.already_answered]
    assert len(firsts) == 3 * 60 and len(repeats) == 3 * 10
    # A repeat shows the first answer: right for even learners, whatever the second click said.
    assert all(r.correct == (r.score.attempt_id in {attempts[lid] for lid in learners[::2]})
               for r in results)
    last = [r for r in results[-70:] if not r.already_answered]
    assert all(r.score.finished and r.next_question is None for r in last)
    assert {(r.score.correct, r.score.answered) for r in last} == {(3, 3), (0, 3)}
    assert await _count(app, QuizAnswer) == 180
    async with app.db.sessions() as session:
        unfinished = await session.scalar(
            select(func.count()).select_from(QuizAttempt)
            .where(QuizAttempt.finished_at.is_(None))
        )
        distinct = await session.scalar(
            select(func.count()).select_from(
                select(QuizAnswer.attempt_id, QuizAnswer.question_id).distinct().subquery()
            )
        )
    assert unfinished == 0 and distinct == 180


async def test_the_result_matches_the_single_answer_path(app: AppContext) -> None:
    batched_attempt = await _attempt(app, 1, seed=5)
    single_attempt = await _attempt(app, 2, seed=5)
    for question in ("fx-genai.q1", "fx-genai.q3"):
        answer = _answer(app, question, right=question.endswith("q1"))
        batched = await app.answers.record_practice(
            app.services.quiz, batched_attempt, 1, question, **answer)  # type: ignore[arg-type]
        async with app.db.sessions.begin() as session:
            single = await app.services.quiz.record_answer(
                session, single_attempt, 2, question, **answer)  # type: ignore[arg-type]
        assert batched.score.attempt_id == batched_attempt
        # The same verdict, text, score and next question, but for the attempt id.
        assert (batched.correct, batched.given, batched.already_answered) == (
            single.correct, single.given, single.already_answered)
        assert (batched.score.correct, batched.score.answered, batched.score.finished) == (
            single.score.correct, single.score.answered, single.score.finished)
        assert batched.next_question is not None and single.next_question is not None
        assert batched.next_question.question.id == single.next_question.question.id
        assert batched.next_question.choices == single.next_question.choices
        assert batched.snippet == single.snippet and batched.lesson == single.lesson
    # A click after the fact on the single path's answer: the batch reports the first one.
    again = await app.answers.record_practice(
        app.services.quiz, single_attempt, 2, "fx-genai.q1",
        **_answer(app, "fx-genai.q1", right=False))  # type: ignore[arg-type]
    assert again.already_answered and again.correct


async def test_bad_answers_and_other_peoples_quizzes_fail_alone(app: AppContext) -> None:
    mine = await _attempt(app, 1)
    theirs = await _attempt(app, 2)
    quiz = app.services.quiz
    results = await asyncio.gather(
        app.answers.record_practice(quiz, mine, 1, "fx-genai.q1", choice_id="spam"),
        app.answers.record_practice(quiz, theirs, 1, "fx-genai.q1", choice_id="spam"),
        app.answers.record_practice(quiz, mine + 1000, 1, "fx-genai.q1", choice_id="spam"),
        app.answers.record_practice(quiz, mine, 1, "fx-nn.q1", value=10),
        app.answers.record_practice(quiz, mine, 1, "fx-genai.q2", choice_id="maybe"),
        app.answers.record_practice(quiz, mine, 1, "fx-genai.q3", choice_id="spam"),
        app.answers.record_practice(quiz, theirs, 2, "fx-genai.q2", choice_id="true"),
        return_exceptions=True,
    )
    assert isinstance(results[0], AnswerResult) and results[0].correct
    assert isinstance(results[1], NotAllowedError) and "someone else" in str(results[1])
    assert isinstance(results[2], NotFoundError) and "no longer exists" in str(results[2])
    assert isinstance(results[3], NotFoundError) and "not part of this quiz" in str(results[3])
    assert isinstance(results[4], InvalidInputError)
    assert isinstance(results[5], InvalidInputError) and "number" in str(results[5])
    assert isinstance(results[6], AnswerResult) and results[6].correct
    assert app.answers.batches == 1  # refusals are results, not a failed batch
    async with app.db.sessions() as session:
        rows = (await session.execute(
            select(QuizAnswer.attempt_id, QuizAnswer.learner_id, QuizAnswer.question_id)
        )).all()
    assert sorted(map(tuple, rows)) == [(mine, 1, "fx-genai.q1"), (theirs, 2, "fx-genai.q2")]


async def test_a_row_the_database_refuses_fails_alone_after_a_row_by_row_retry(
    app: AppContext,
) -> None:
    attempts = {lid: await _attempt(app, lid, seed=lid) for lid in (1, 2, 3)}
    # A fault the grading cannot see: the database refuses learner 2's row (a trigger).
    async with app.db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            await conn.exec_driver_sql(
                "CREATE TRIGGER refuse_two BEFORE INSERT ON quiz_answer WHEN NEW.learner_id = 2 "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        else:
            await conn.exec_driver_sql(
                "CREATE FUNCTION refuse_two() RETURNS trigger AS $$ BEGIN "
                "IF NEW.learner_id = 2 THEN RAISE EXCEPTION 'refused by the test'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            await conn.exec_driver_sql(
                "CREATE TRIGGER refuse_two BEFORE INSERT ON quiz_answer "
                "FOR EACH ROW EXECUTE FUNCTION refuse_two()"
            )
    results = await asyncio.gather(
        *(app.answers.record_practice(app.services.quiz, attempts[lid], lid, "fx-genai.q1",
                                      choice_id="spam") for lid in (1, 2, 3)),
        return_exceptions=True,
    )
    assert isinstance(results[0], AnswerResult) and isinstance(results[2], AnswerResult)
    assert isinstance(results[1], Exception) and "refused by the test" in str(results[1])
    assert app.answers.batches == 2  # the batch of three failed; 1 and 3 committed alone
    async with app.db.sessions() as session:
        learners = sorted((await session.scalars(select(QuizAnswer.learner_id))).all())
    assert learners == [1, 3]


async def test_daily_and_practice_answers_share_one_commit(app: AppContext) -> None:
    now = utcnow()
    async with app.db.sessions.begin() as session:
        schedule = await app.services.schedules.add(
            session, guild_id=GUILD, channel_id=5, created_by=7, local_time="09:00",
            timezone="Etc/UTC", now=now - timedelta(days=2),
        )
        post = await app.services.daily.claim(session, schedule.id, now - timedelta(minutes=1),
                                              now=now, rng=random.Random(3))
        assert post is not None
        await app.services.daily.mark_posted(session, post.post_id, 4242, now)
    attempt = await _attempt(app, 1)
    daily, practice = await asyncio.gather(
        app.answers.record(post.post_id, 1, post.choices[0].id, display_name="one"),
        app.answers.record_practice(app.services.quiz, attempt, 1, "fx-genai.q2",
                                    choice_id="false"),
    )
    assert app.answers.batches == 1
    assert not daily.already_answered and not practice.already_answered
    assert not practice.correct and practice.given == "False"
    assert await _count(app, DailyAnswer) == 1
    assert await _count(app, QuizAnswer) == 2  # the daily answer counts as a quiz answer too


@pytest.mark.postgres
async def test_an_answer_recorded_meanwhile_by_another_process_is_shown(
    app: AppContext,
) -> None:
    if app.db.dialect != "postgresql":
        pytest.skip("a second writer between read and insert needs PostgreSQL's concurrency")
    attempt = await _attempt(app, 1)
    # Another process's transaction inserts the answer and holds it uncommitted: ours reads
    # no answer, then its INSERT waits on the unique key and, once the other commits, skips.
    other = await app.db.engine.connect()
    other_tx = await other.begin()
    await other.execute(text(
        "INSERT INTO quiz_answer (attempt_id, learner_id, guild_id, lesson_id, question_id, "
        "choice_id, correct, answered_at) VALUES "
        "(:a, 1, :g, 'fx-genai', 'fx-genai.q1', 'write', false, now())"
    ), {"a": attempt, "g": GUILD})
    pending = asyncio.ensure_future(app.answers.record_practice(
        app.services.quiz, attempt, 1, "fx-genai.q1", choice_id="spam"))
    await asyncio.sleep(0.3)
    assert not pending.done()  # waiting on the other transaction's row
    await other_tx.commit()
    await other.close()
    result = await pending
    assert result.already_answered and not result.correct and result.given == "Writing a new email"
    assert result.score.answered == 1
    assert await _count(app, QuizAnswer) == 1


async def test_batches_in_flight_together_record_each_answer_once(
    app: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    """Small batches, three in flight, the same members in several of them (double clicks in
    another order): rows are written in key order, so no batch deadlocks or fails."""
    now = utcnow()
    async with app.db.sessions.begin() as session:
        schedule = await app.services.schedules.add(
            session, guild_id=GUILD, channel_id=5, created_by=7, local_time="09:00",
            timezone="Etc/UTC", now=now - timedelta(days=2),
        )
        post = await app.services.daily.claim(session, schedule.id, now - timedelta(minutes=1),
                                              now=now, rng=random.Random(3))
        assert post is not None
        await app.services.daily.mark_posted(session, post.post_id, 4242, now)
    attempts = {lid: await _attempt(app, lid, seed=lid) for lid in range(1, 31)}
    batcher = AnswerBatcher(app.db, lambda: app.course, cap=7, parallel=3)
    rng = random.Random(5)
    clicks = [(lid, kind) for lid in attempts for kind in ("daily", "practice")] * 2
    rng.shuffle(clicks)

    async def click(lid: int, kind: str) -> bool:
        if kind == "daily":
            daily = await batcher.record(post.post_id, lid, rng.choice(post.choices).id,
                                         display_name=f"m{lid}")
            return daily.already_answered
        practice = await batcher.record_practice(app.services.quiz, attempts[lid], lid,
                                                 "fx-genai.q1", choice_id="spam")
        return practice.already_answered

    with caplog.at_level("WARNING", logger="bot.services.answer_batch"):
        repeats = await asyncio.gather(*(click(lid, kind) for lid, kind in clicks))
    assert not [r for r in caplog.records if "failed" in r.getMessage()]
    assert sorted(repeats) == [False] * 60 + [True] * 60
    assert batcher.batches >= 120 // 7
    assert await _count(app, DailyAnswer) == 30
    assert await _count(app, QuizAnswer) == 60


async def test_answers_one_after_another_each_get_a_batch(app: AppContext) -> None:
    """The next answer, handed in as soon as the last was acknowledged, is flushed too."""
    attempt = await _attempt(app, 1)
    for question in ("fx-genai.q1", "fx-genai.q2", "fx-genai.q3"):
        result = await asyncio.wait_for(app.answers.record_practice(
            app.services.quiz, attempt, 1, question, **_answer(app, question, right=True)  # type: ignore[arg-type]
        ), timeout=30)
        assert result.correct
    assert app.answers.batches == 3
