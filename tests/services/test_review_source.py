"""Daily-quiz source ``review``: the guild's hardest questions lately, resting 14 days per channel.

On SQLite and PostgreSQL (the ``app`` fixture). Answers are stored as the answer paths store
them (practice answers with an attempt, daily answers with their post), at chosen times.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import AppContext
from bot.db.models import Learner, QuizAnswer, QuizAttempt
from bot.db.models.daily import DailyPost
from bot.errors import InvalidInputError
from bot.services.daily import ReviewCandidate
from bot.services.schedules import choice_pool

GUILD, OTHER_GUILD, CHANNEL, OTHER_CHANNEL, MOD = 5001, 5002, 6001, 6002, 7001
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
Q1, Q2, NN2, NN3 = "fx-genai.q1", "fx-genai.q2", "fx-nn.q2", "fx-nn.q3"  # the choice questions
NUMERIC = "fx-genai.q3"


async def _schedule(app: AppContext, source: str = "review", channel: int = CHANNEL,
                    **kwargs: object) -> int:
    async with app.db.sessions.begin() as session:
        view = await app.services.schedules.add(
            session, guild_id=GUILD, channel_id=channel, created_by=MOD, local_time="09:00",
            timezone="Europe/Berlin", source=source, now=NOW - timedelta(days=60),
            **kwargs,  # type: ignore[arg-type]
        )
        return view.id


async def _answers(
    app: AppContext, question_id: str, right: int, wrong: int, *, guild: int | None = GUILD,
    at: datetime = NOW - timedelta(days=1),
) -> None:
    """``right + wrong`` practice answers to a question, one learner each."""
    question = app.course.questions[question_id]
    async with app.db.sessions.begin() as session:
        base = await session.scalar(select(Learner.id).order_by(Learner.id.desc()).limit(1)) or 0
        for n in range(right + wrong):
            learner_id = base + 1 + n
            session.add(Learner(id=learner_id, display_name=f"l{learner_id}", timezone="UTC"))
            attempt = QuizAttempt(learner_id=learner_id, guild_id=guild, lesson_id=None,
                                  question_ids=[question_id], seed=1, started_at=at)
            session.add(attempt)
            await session.flush()
            session.add(QuizAnswer(
                attempt_id=attempt.id, learner_id=learner_id, guild_id=guild,
                lesson_id=question.lesson_id, question_id=question_id,
                choice_id=None, value=1.0, correct=n < right, answered_at=at,
            ))


async def _claim(app: AppContext, schedule_id: int, due: datetime, seed: int = 1) -> str | None:
    async with app.db.sessions.begin() as session:
        post = await app.services.daily.claim(session, schedule_id, due, now=due,
                                              rng=random.Random(seed))
    return post.question.id if post else None


async def _candidates(app: AppContext, now: datetime = NOW,
                      channel: int = CHANNEL) -> list[ReviewCandidate]:
    async with app.db.sessions() as session:
        return await app.services.daily.review_candidates(session, GUILD, channel, None, now=now)


async def test_the_lowest_share_right_is_posted_first(app: AppContext) -> None:
    await _answers(app, Q1, right=9, wrong=1)  # 90 %
    await _answers(app, Q2, right=1, wrong=3)  # 25 %
    await _answers(app, NN2, right=2, wrong=6)  # 25 %, more answers: better evidence
    await _answers(app, NN3, right=5, wrong=5)  # 50 %
    candidates = await _candidates(app)
    assert [(c.question.id, c.correct, c.answered) for c in candidates] == [
        (NN2, 2, 8), (Q2, 1, 4), (NN3, 5, 10), (Q1, 9, 10)
    ]
    schedule_id = await _schedule(app)
    assert await _claim(app, schedule_id, NOW) == NN2


async def test_a_question_rests_14_days_in_the_channel_then_comes_back(app: AppContext) -> None:
    await _answers(app, Q2, right=0, wrong=4, at=NOW - timedelta(days=2))
    await _answers(app, Q1, right=3, wrong=1, at=NOW - timedelta(days=2))
    schedule_id = await _schedule(app)
    assert await _claim(app, schedule_id, NOW) == Q2
    assert await _claim(app, schedule_id, NOW + timedelta(days=1)) == Q1  # Q2 rests
    # Both rest: nothing answered is left, so the random rule picks a never-posted question.
    third = await _claim(app, schedule_id, NOW + timedelta(days=2))
    assert third in {NN2, NN3}
    # Another channel of the guild is not this one: Q2 is the hardest there today.
    other = await _schedule(app, channel=OTHER_CHANNEL)
    assert await _claim(app, other, NOW + timedelta(days=2)) == Q2
    # 14 days after its post, Q2 comes back here, although the random rule would not repeat
    # it while other questions were posted fewer times (review overrides that rule).
    assert await _claim(app, schedule_id, NOW + timedelta(days=14)) == Q2


async def test_only_this_guilds_answers_of_the_last_30_days_count(app: AppContext) -> None:
    await _answers(app, Q1, right=0, wrong=5, guild=OTHER_GUILD)
    await _answers(app, Q2, right=0, wrong=5, at=NOW - timedelta(days=31))
    await _answers(app, NN2, right=0, wrong=5, guild=None)  # in DMs
    await _answers(app, NN3, right=4, wrong=1, at=NOW - timedelta(days=29))
    assert [c.question.id for c in await _candidates(app)] == [NN3]


async def test_numeric_questions_are_never_posted(app: AppContext) -> None:
    await _answers(app, NUMERIC, right=0, wrong=9)
    assert await _candidates(app) == []
    assert NUMERIC not in {q.id for q in choice_pool(app.course, None)}


async def test_without_answers_it_falls_back_to_random(app: AppContext) -> None:
    schedule_id = await _schedule(app)
    assert await _candidates(app) == []
    asked = [await _claim(app, schedule_id, NOW + timedelta(days=day), seed=day)
             for day in range(4)]
    assert sorted(q for q in asked if q) == sorted([Q1, Q2, NN2, NN3])  # no repeat, as random


async def test_review_is_stored_and_a_lesson_narrows_it(app: AppContext) -> None:
    await _answers(app, Q2, right=0, wrong=3)
    await _answers(app, NN2, right=0, wrong=9)
    schedule_id = await _schedule(app, lesson="1")
    async with app.db.sessions() as session:
        view = await app.services.schedules.get(session, GUILD, schedule_id)
    assert (view.source, view.lesson_id) == ("review", "fx-genai")
    assert await _claim(app, schedule_id, NOW) == Q2  # NN2 is harder but in lesson 2
    async with app.db.sessions.begin() as session:
        edited = await app.services.schedules.edit(session, GUILD, schedule_id, source="random")
    assert edited.source == "random"
    async with app.db.sessions.begin() as session:
        edited = await app.services.schedules.edit(session, GUILD, schedule_id, source="review")
    assert edited.source == "review"
    async with app.db.sessions.begin() as session:
        posts = list(await session.scalars(select(DailyPost.question_id)))
    assert posts == [Q2]


async def test_an_unknown_source_says_which_ones_exist(app: AppContext) -> None:
    try:
        await _schedule(app, source="hardest")
    except InvalidInputError as exc:
        assert "`review`" in str(exc) and "`random`" in str(exc)
    else:
        raise AssertionError("an unknown source was accepted")
