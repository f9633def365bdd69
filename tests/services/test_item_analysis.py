"""Item analysis against figures computed by hand (see each test's comments)."""

from __future__ import annotations

import random

import pytest

from bot.app import AppContext
from bot.content.model import Course, QuestionKind
from bot.services.item_analysis import (
    AnswerRecord,
    FlagCode,
    analyse,
    first_answers,
    pearson,
)

Q = "fx-genai.q1"  # key "spam"; distractors "write", "paint"


def _others(course: Course) -> list[str]:
    return [qid for qid in course.questions if qid != Q]


def _answer(course: Course, learner: int, qid: str, right: bool) -> AnswerRecord:
    question = course.questions[qid]
    if question.kind is QuestionKind.NUMERIC:
        return AnswerRecord(learner, qid, right, None)
    key = question.answer_choice
    wrong = next(c.id for c in question.choices if c.id != key)
    return AnswerRecord(learner, qid, right, key if right else wrong)


def _four_learners(course: Course) -> list[AnswerRecord]:
    """L1..L4 answer all six questions.

    On Q: L1, L2 right ("spam"); L3 picks "write"; L4 picks "paint".
    On the five others: L1 5/5, L2 4/5, L3 2/5, L4 1/5, so the rest scores are 1.0, 0.8, 0.4, 0.2.
    """
    plan = {1: (True, "spam", 5), 2: (True, "spam", 4), 3: (False, "write", 2),
            4: (False, "paint", 1)}
    records = []
    for learner, (right, choice, others_right) in plan.items():
        records.append(AnswerRecord(learner, Q, right, choice))
        for i, qid in enumerate(_others(course)):
            records.append(_answer(course, learner, qid, i < others_right))
    return records


def test_pearson_by_hand() -> None:
    # x = [1,1,0,0], y = [1,.8,.4,.2]: sxy = .6, sxx = 1, syy = .4 -> .6 / sqrt(.4)
    assert pearson([1, 1, 0, 0], [1, 0.8, 0.4, 0.2]) == pytest.approx(0.6 / 0.4**0.5)
    assert pearson([1, 1, 1], [0.2, 0.5, 0.9]) is None  # a constant series has no correlation


def test_item_figures_match_a_hand_computation(course: Course) -> None:
    stats = {s.question_id: s for s in analyse(course, _four_learners(course), min_answers=4)}
    item = stats[Q]
    assert (item.learners, item.correct, item.facility) == (4, 2, 0.5)
    assert item.discriminating_learners == 4
    # Point-biserial of [1,1,0,0] against rest scores [1,.8,.4,.2] = .6 / sqrt(.4) = 0.9487
    assert item.discrimination == pytest.approx(0.948683, abs=1e-6)
    # 27% of 4 learners rounds to 1 per group: upper L1 (right) minus lower L4 (wrong) = 1.0
    assert item.upper_lower == pytest.approx(1.0)
    choices = {c.choice_id: c for c in item.choices}
    assert [(c.picked, c.is_key) for c in (choices["spam"], choices["write"], choices["paint"])] == [
        (2, True), (1, False), (1, False)]
    # "write" = [0,0,1,0]: sxy = -.2, sxx = .75 -> -.2 / sqrt(.75 * .4) = -0.3651
    assert choices["write"].point_biserial == pytest.approx(-0.365148, abs=1e-6)
    # "paint" = [0,0,0,1]: sxy = -.4 -> -.4 / sqrt(.3) = -0.7303
    assert choices["paint"].point_biserial == pytest.approx(-0.730297, abs=1e-6)
    assert item.flags == ()  # 0.5 facility, strong discrimination, enough answers for min 4


def test_learners_with_too_few_other_answers_have_no_rest_score(course: Course) -> None:
    # Learner 9 answers Q and only 3 other questions: counted in facility, not in discrimination.
    records = _four_learners(course) + [AnswerRecord(9, Q, True, "spam")] + [
        _answer(course, 9, qid, True) for qid in _others(course)[:3]
    ]
    item = next(s for s in analyse(course, records, min_answers=4) if s.question_id == Q)
    assert (item.learners, item.correct, item.discriminating_learners) == (5, 3, 4)
    assert item.discrimination == pytest.approx(0.948683, abs=1e-6)


def test_flags_name_their_reason(course: Course) -> None:
    records = _four_learners(course)
    # Swap the key's story: the strong learners get Q wrong, the weak ones right -> negative.
    flipped = [
        AnswerRecord(r.learner_id, Q, not r.correct, "write" if r.correct else "spam")
        if r.question_id == Q else r
        for r in records
    ]
    item = next(s for s in analyse(course, flipped, min_answers=4) if s.question_id == Q)
    assert item.discrimination is not None and item.discrimination < 0
    assert [f.code for f in item.flags] == [FlagCode.CHECK_KEY]
    assert "key" in item.flags[0].reason
    # With the default minimum of 30 learners, 4 answers are too few to judge, and nothing else.
    item = next(s for s in analyse(course, records) if s.question_id == Q)
    assert [f.code for f in item.flags] == [FlagCode.TOO_FEW]


def test_easy_and_hard_questions_are_flagged(course: Course) -> None:
    rng = random.Random(4)
    records = []
    for learner in range(40):
        records.append(AnswerRecord(learner, Q, True, "spam"))  # everyone right: too easy
        for qid in _others(course):
            records.append(_answer(course, learner, qid, rng.random() < 0.5))
    stats = {s.question_id: s for s in analyse(course, records)}
    assert FlagCode.TOO_EASY in [f.code for f in stats[Q].flags]
    assert stats[Q].discrimination is None  # nobody got it wrong: no correlation to compute


async def test_first_answers_reads_each_learners_first_answer(app: AppContext) -> None:
    """Two attempts by the same learner: the analysis sees the first answer to each question."""
    question = app.course.questions[Q]
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, 5, "L5", guild_id=77)
    for choice in ("write", question.answer_choice):
        async with app.db.sessions.begin() as session:
            view = await app.services.quiz.start(
                session, 5, guild_id=77, lesson_id="fx-genai", count=3, rng=random.Random(1)
            )
            await app.services.quiz.record_answer(session, view.attempt_id, 5, Q, choice_id=choice)
    async with app.db.sessions.begin() as session:
        first = await first_answers(session)
        every = await first_answers(session, include_all=True)
        elsewhere = await first_answers(session, guild_id=78)
    assert [(a.question_id, a.choice_id, a.correct) for a in first] == [(Q, "write", False)]
    assert [a.choice_id for a in every] == ["write", "spam"]
    assert elsewhere == []


async def test_daily_post_answers_are_analysed_apart_from_practice(app: AppContext) -> None:
    """A daily post's answers are their own source: they may have leaked in chat."""
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    async with app.db.sessions.begin() as session:
        schedule = await app.services.schedules.add(
            session, guild_id=9, channel_id=10, created_by=11, local_time="09:00",
            timezone="Europe/Berlin", now=now,
        )
    async with app.db.sessions.begin() as session:
        post = await app.services.daily.claim(session, schedule.id, now, now=now,
                                              rng=random.Random(1))
        assert post is not None
        await app.services.daily.mark_posted(session, post.post_id, 4242, now)
    app.answers.clock = lambda: now
    key = post.question.answer_choice
    assert key is not None
    await app.answers.record(post.post_id, 12, key, display_name="m12")
    async with app.db.sessions() as session:
        practice = await first_answers(session)
        daily = await first_answers(session, source="daily")
    assert practice == []
    assert [(a.learner_id, a.question_id, a.correct) for a in daily] == [
        (12, post.question.id, True)]
