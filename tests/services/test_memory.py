"""Memory cards: FSRS due times, once per local day (DST included), compare-and-set, restarts."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fsrs import Card, Rating, Scheduler
from sqlalchemy import func, select, text

from bot.app import AppContext
from bot.content.model import Course
from bot.db.engine import open_database
from bot.db.models import ReviewCard, ReviewLog
from bot.runtime import CourseRuntime
from bot.services.learners import LearnerService
from bot.services.memory import FirstAnswer, MemoryModel
from bot.services.quiz import QuizService
from bot.settings import Settings

LEARNER = 4242
Q = "fx-genai.q1"  # single choice, answer "spam"
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def reference_scheduler() -> Scheduler:
    """The fsrs package's own scheduler, configured as the issue says, fuzzing off."""
    return Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


async def _learner(app: AppContext, zone: str = "Europe/Berlin") -> None:
    async with app.db.sessions.begin() as session:
        await LearnerService().ensure(session, LEARNER, "Ada")
        await app.services.learners.set_timezone(session, LEARNER, zone)


async def _record(app: AppContext, model: MemoryModel, *answers: FirstAnswer) -> int:
    async with app.db.sessions.begin() as session:
        changed = await model.record(await session.connection(), list(answers))
    return len(changed)


async def _card(app: AppContext, question: str = Q) -> ReviewCard | None:
    async with app.db.sessions() as session:
        return await session.get(ReviewCard, (LEARNER, question))


async def _logs(app: AppContext) -> list[ReviewLog]:
    async with app.db.sessions() as session:
        return list(await session.scalars(select(ReviewLog).order_by(ReviewLog.id)))


def _answer(at: datetime, correct: bool = True, question: str = Q,
            source: str = "quiz") -> FirstAnswer:
    return FirstAnswer(LEARNER, question, correct, at.astimezone(UTC), source)


# Right/wrong over a month, at varied local times; several answers on some days.
SEQUENCE = [
    (datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN), True),
    (datetime(2026, 3, 2, 21, 0, tzinfo=BERLIN), False),  # same day: ignored
    (datetime(2026, 3, 3, 8, 15, tzinfo=BERLIN), True),
    (datetime(2026, 3, 6, 23, 50, tzinfo=BERLIN), False),
    (datetime(2026, 3, 7, 0, 10, tzinfo=BERLIN), True),  # 20 minutes later, but the next day
    (datetime(2026, 3, 12, 12, 0, tzinfo=BERLIN), True),
    (datetime(2026, 3, 12, 12, 1, tzinfo=BERLIN), False),  # same day: ignored
    (datetime(2026, 3, 29, 10, 0, tzinfo=BERLIN), True),  # DST began that night
    (datetime(2026, 4, 20, 7, 30, tzinfo=BERLIN), False),
]


def _expected(sequence: list[tuple[datetime, bool]], zone: ZoneInfo) -> list[Card]:
    """What the fsrs scheduler computes for the first answer of each local day."""
    scheduler = reference_scheduler()
    card = Card(card_id=1)
    seen_days: set[object] = set()
    states = []
    for at, correct in sequence:
        day = at.astimezone(zone).date()
        if day in seen_days:
            continue
        seen_days.add(day)
        card, _ = scheduler.review_card(
            card, Rating.Good if correct else Rating.Again, at.astimezone(UTC)
        )
        states.append(card)
    return states


async def test_due_times_match_the_fsrs_scheduler_over_a_month(app: AppContext) -> None:
    await _learner(app)
    model = MemoryModel(fuzz=False)
    expected = _expected(SEQUENCE, BERLIN)
    updated = 0
    for at, correct in SEQUENCE:
        updated += await _record(app, model, _answer(at, correct))
        card = await _card(app)
        assert card is not None
        want = expected[updated - 1]
        assert card.due == want.due
        assert card.stability == pytest.approx(want.stability, rel=1e-9)
        assert card.difficulty == pytest.approx(want.difficulty, rel=1e-9)
        assert card.state == want.state.value
        assert card.last_review == want.last_review
    assert updated == len(expected) == 7
    logs = await _logs(app)
    assert [log.rating for log in logs] == [3, 3, 1, 3, 3, 3, 1]
    assert [log.due_after for log in logs] == [card.due for card in expected]
    assert logs[0].due_before is None
    assert [log.due_before for log in logs[1:]] == [card.due for card in expected[:-1]]
    assert [str(log.local_date) for log in logs][:5] == [
        "2026-03-02", "2026-03-03", "2026-03-06", "2026-03-07", "2026-03-12"]
    card = await _card(app)
    assert card is not None and card.reps == 7 and card.lapses == 2


async def test_the_quiz_path_updates_the_card_in_its_transaction(app: AppContext,
                                                                 course: Course) -> None:
    """record_answer: right → Good, wrong → Again, once a day; a double click counts once."""
    await _learner(app)
    clock = [datetime(2026, 5, 4, 10, 0, tzinfo=UTC)]
    quiz = QuizService(course, MemoryModel(fuzz=False), clock=lambda: clock[0])
    scheduler = reference_scheduler()
    reference = Card(card_id=1)
    for day, choice in enumerate(["spam", "write", "spam"]):
        clock[0] = datetime(2026, 5, 4 + 3 * day, 10, 0, tzinfo=UTC)
        async with app.db.sessions.begin() as session:
            view = await quiz.start(session, LEARNER, guild_id=None, lesson_id="fx-genai",
                                    count=3, rng=random.Random(day))
        for _click in range(2):  # a double click
            async with app.db.sessions.begin() as session:
                result = await quiz.record_answer(session, view.attempt_id, LEARNER, Q,
                                                  choice_id=choice)
        assert result.already_answered and result.next_review is None
        reference, _ = scheduler.review_card(
            reference, Rating.Good if choice == "spam" else Rating.Again, clock[0])
        card = await _card(app)
        assert card is not None and card.due == reference.due
    # A second quiz the same day answers the question again: the card does not move.
    async with app.db.sessions.begin() as session:
        view = await quiz.start(session, LEARNER, guild_id=None, lesson_id="fx-genai",
                                count=3, rng=random.Random(9))
        again = await quiz.record_answer(session, view.attempt_id, LEARNER, Q, choice_id="write")
    assert not again.already_answered and again.next_review is None
    logs = await _logs(app)
    assert [(log.rating, log.source) for log in logs] == [(3, "quiz"), (1, "quiz"), (3, "quiz")]
    card = await _card(app)
    assert card is not None and card.due == reference.due


async def test_the_learners_day_follows_their_timezone_across_dst(app: AppContext) -> None:
    await _learner(app, "America/New_York")
    model = MemoryModel(fuzz=False)
    # Autumn: 31 Oct 23:30 and 1 Nov 00:30 local are two days, an hour apart.
    assert await _record(app, model, _answer(datetime(2026, 10, 31, 23, 30, tzinfo=NEW_YORK))) == 1
    assert await _record(app, model, _answer(datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK))) == 1
    # 1 Nov is 25 hours long (clocks fall back): 00:30 and 23:30 are one day, 24 h apart.
    q2 = "fx-genai.q2"
    first = datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)
    last = datetime(2026, 11, 1, 23, 30, tzinfo=NEW_YORK)
    assert last.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=24)
    assert await _record(app, model, _answer(first, question=q2)) == 1
    assert await _record(app, model, _answer(last, question=q2)) == 0
    # Spring: 8 Mar is 23 hours long; 00:30 and 23:30 are one day, 22 h apart.
    q3 = "fx-nn.q2"
    assert await _record(app, model, _answer(datetime(2026, 3, 8, 0, 30, tzinfo=NEW_YORK),
                                             question=q3)) == 1
    assert await _record(app, model, _answer(datetime(2026, 3, 8, 23, 30, tzinfo=NEW_YORK),
                                             question=q3)) == 0
    assert await _record(app, model, _answer(datetime(2026, 3, 9, 0, 30, tzinfo=NEW_YORK),
                                             question=q3)) == 1
    dates = [(log.question_id, str(log.local_date)) for log in await _logs(app)]
    assert dates == [(Q, "2026-10-31"), (Q, "2026-11-01"), (q2, "2026-11-01"),
                     (q3, "2026-03-08"), (q3, "2026-03-09")]


async def test_a_batch_keeps_each_learners_first_answer_per_question(app: AppContext) -> None:
    await _learner(app)
    model = MemoryModel(fuzz=False)
    at = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    changed = await _record(
        app, model,
        _answer(at + timedelta(seconds=1), False),
        _answer(at, True),  # the earlier one counts
        _answer(at, True, question="fx-nn.q3", source="daily"),
    )
    assert changed == 2
    logs = await _logs(app)
    assert sorted((log.question_id, log.rating, log.source) for log in logs) == [
        (Q, 3, "quiz"), ("fx-nn.q3", 3, "daily")]


async def test_state_survives_a_restart(database_url: str, course: Course,
                                        settings: Settings) -> None:
    """A new app on the same database continues each card where the last one left it."""
    model = MemoryModel(fuzz=False)
    days = [datetime(2026, 7, d, 18, 0, tzinfo=BERLIN) for d in (1, 2, 5, 14)]
    expected = _expected([(day, day.day != 5) for day in days], BERLIN)
    for index, day in enumerate(days):
        db = await open_database(database_url)
        app = AppContext(settings=settings, db=db, runtime=CourseRuntime.build(course, settings))
        try:
            if index == 0:
                await _learner(app)
            assert await _record(app, model, _answer(day, day.day != 5)) == 1
        finally:
            await db.dispose()
    db = await open_database(database_url)
    try:
        async with db.sessions() as session:
            card = await session.get(ReviewCard, (LEARNER, Q))
            assert card is not None
            assert card.due == expected[-1].due and card.reps == 4 and card.lapses == 1
    finally:
        await db.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("existing", [False, True], ids=["new card", "known card"])
async def test_two_sessions_racing_update_a_card_once(app: AppContext, existing: bool) -> None:
    """PostgreSQL: both sessions read the same card; the compare-and-set lets one through.

    (SQLite transactions begin IMMEDIATE, so there two sessions never overlap.)
    """
    if app.db.dialect != "postgresql":
        pytest.skip("SQLite serialises transactions: no two sessions read the same card")
    await _learner(app)
    model = MemoryModel(fuzz=False)
    day = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
    if existing:
        await _record(app, model, _answer(day - timedelta(days=3)))
    before = await _logs(app)
    async with app.db.sessions.begin() as first:
        assert len(await model.record(await first.connection(), [_answer(day)])) == 1
        first_pid = await first.scalar(text("SELECT pg_backend_pid()"))

        async def second() -> int:
            async with app.db.sessions.begin() as session:
                return len(await model.record(await session.connection(),
                                              [_answer(day + timedelta(seconds=1), False)]))

        racer = asyncio.create_task(second())
        # Wait until the second session is blocked behind the first one's row (it has read
        # the card as it was before, and is now writing).
        async with app.db.sessions() as watcher:
            for _ in range(600):
                waiting = await watcher.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND :pid = ANY(pg_blocking_pids(pid))"), {"pid": first_pid})
                if waiting:
                    break
                # pg_stat_activity is read once per transaction: end it, or every later poll
                # sees the first one's snapshot (from before the second session connected).
                await watcher.rollback()
                await asyncio.sleep(0.05)
            if not waiting:  # say what every session of this database was doing
                sessions = (await watcher.execute(text(
                    "SELECT pid, state, wait_event_type, pg_blocking_pids(pid), left(query, 60) "
                    "FROM pg_stat_activity WHERE datname = current_database()"))).all()
                pytest.fail(f"the second session never reached the card: first {first_pid}, "
                            f"sessions {sessions}, second {racer}")
    assert await racer == 0
    logs = await _logs(app)
    assert len(logs) == len(before) + 1 and logs[-1].rating == 3
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReviewCard)) == 1


async def test_the_batched_practice_path_updates_cards_once_per_double_click(
    app: AppContext, course: Course
) -> None:
    """app.answers.record_practice (/quiz, the console): a burst, double clicks, one review."""
    learners = list(range(500, 540))
    async with app.db.sessions.begin() as session:
        attempts = {}
        for learner in learners:
            await app.services.learners.ensure(session, learner, f"L{learner}", guild_id=7)
            view = await app.services.quiz.start(session, learner, guild_id=7,
                                                 lesson_id="fx-genai", count=3,
                                                 rng=random.Random(learner))
            attempts[learner] = view.attempt_id
    quiz = app.services.quiz
    clicks = [quiz_click for learner in learners for quiz_click in (
        app.answers.record_practice(quiz, attempts[learner], learner, Q,
                                    choice_id="spam" if learner % 2 else "write"),
        app.answers.record_practice(quiz, attempts[learner], learner, Q, choice_id="paint"),
    )]
    results = await asyncio.gather(*clicks)
    firsts = [r for r in results if not r.already_answered]
    assert len(firsts) == len(learners) and all(r.next_review is not None for r in firsts)
    assert all(r.next_review is None for r in results if r.already_answered)
    logs = await _logs(app)
    assert len(logs) == len(learners)
    assert {(log.learner_id, log.rating, log.source, log.guild_id) for log in logs} == {
        (learner, 3 if learner % 2 else 1, "quiz", 7) for learner in learners}


async def test_review_answers_are_logged_with_source_review(app: AppContext) -> None:
    """A /review attempt's answers, on the batched path, update the card as 'review'."""
    await _learner(app)
    long_ago = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    await _record(app, MemoryModel(fuzz=False), _answer(long_ago))
    async with app.db.sessions.begin() as session:
        start = await app.services.review.start(session, LEARNER, guild_id=None)
    assert start.question is not None and start.question.kind == "review"
    assert start.question.question.id == Q and start.in_dm
    result = await app.answers.record_practice(app.services.quiz, start.question.attempt_id,
                                               LEARNER, Q, choice_id="spam")
    assert result.score.kind == "review" and result.next_review is not None
    logs = await _logs(app)
    assert [(log.source, log.guild_id) for log in logs] == [("quiz", None), ("review", None)]


async def test_daily_answers_update_cards_with_source_daily(app: AppContext) -> None:
    async with app.db.sessions.begin() as session:
        schedule = await app.services.schedules.add(
            session, guild_id=5, channel_id=6, created_by=7, local_time="09:00",
            timezone="Etc/UTC", now=datetime(2026, 11, 1, tzinfo=UTC))
        now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        post = await app.services.daily.claim(session, schedule.id, now, now=now,
                                              rng=random.Random(3))
        assert post is not None
        await app.services.daily.mark_posted(session, post.post_id, 4242, now)
    app.answers.clock = lambda: now + timedelta(minutes=1)
    question = post.question
    right = question.answer_choice
    assert right is not None
    outs = await asyncio.gather(*(
        app.answers.record(post.post_id, learner, right, display_name=f"m{learner}")
        for learner in (11, 12, 11)))
    assert [o.already_answered for o in outs] == [False, False, True]
    logs = await _logs(app)
    assert sorted((log.learner_id, log.source, log.guild_id, log.rating) for log in logs) == [
        (11, "daily", 5, 3), (12, "daily", 5, 3)]
