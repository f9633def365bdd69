"""Course navigation, progress, streaks, leaderboard and feedback on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.app import AppContext
from bot.db.models import Feedback, QuizAnswer, SnippetView
from bot.errors import InvalidInputError, NotFoundError
from bot.services.feedback import FeedbackContext
from bot.services.learners import parse_timezone, search_timezones
from bot.services.progress import streak_from_days

ME, YOU, THEM = 10, 20, 30
GUILD, OTHER_GUILD = 500, 600


async def _ensure(app: AppContext, learner: int, guild: int | None = GUILD) -> None:
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, learner, f"name{learner}", guild_id=guild,
                                           guild_name="Guild")


async def test_reading_resumes_where_the_learner_left_off(app: AppContext) -> None:
    await _ensure(app, ME)
    course = app.services.course
    async with app.db.sessions.begin() as session:
        first = await course.resume(session, ME)
        assert (first.lesson.id, first.index, first.has_previous) == ("fx-genai", 0, False)
        second = await course.step(session, ME, first.snippet.id, 1)
        assert second.snippet.id == "fx-genai.params" and second.has_next
    async with app.db.sessions.begin() as session:
        again = await course.resume(session, ME)
    assert again.snippet.id == "fx-genai.params"
    async with app.db.sessions.begin() as session:
        back = await course.step(session, ME, again.snippet.id, -1)
        assert back.snippet.id == "fx-genai.create"
        # Previous on the first snippet stays there.
        assert (await course.step(session, ME, back.snippet.id, -1)).index == 0


async def test_next_past_the_end_finishes_the_lesson_and_opens_the_next(app: AppContext) -> None:
    await _ensure(app, ME)
    async with app.db.sessions.begin() as session:
        page = await app.services.course.step(session, ME, "fx-genai.distribution", 1)
        assert page.lesson.id == "fx-nn" and page.index == 0
        statuses = await app.services.course.overview(session, ME)
    done = {s.lesson.id: s.done for s in statuses}
    assert done == {"fx-genai": True, "fx-nn": False}
    async with app.db.sessions.begin() as session:
        resumed = await app.services.course.resume(session, ME)
    assert resumed.lesson.id == "fx-nn"


async def test_jumping_to_a_lesson_by_number_title_or_id(app: AppContext) -> None:
    course = app.services.course
    assert course.resolve_lesson("2").id == "fx-nn"
    assert course.resolve_lesson("counting PARAMETERS").id == "fx-nn"
    assert course.resolve_lesson("fx-genai").id == "fx-genai"
    with pytest.raises(NotFoundError, match="can't find a lesson"):
        course.resolve_lesson("@everyone " + "x" * 500)


async def test_viewing_twice_records_one_view_and_mark_done_is_idempotent(
    app: AppContext,
) -> None:
    await _ensure(app, ME)
    for _ in range(2):
        async with app.db.sessions.begin() as session:
            await app.services.course.show(session, ME, "fx-nn.count")
            await app.services.course.mark_done(session, ME, "fx-nn")
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SnippetView)) == 1
        summary = await app.services.progress.summary(session, ME, guild_id=None)
        assert summary.lessons_done == 1


async def test_a_stale_snippet_id_is_a_friendly_error(app: AppContext) -> None:
    await _ensure(app, ME)
    with pytest.raises(NotFoundError, match="changed since this page was opened"):
        async with app.db.sessions.begin() as session:
            await app.services.course.show(session, ME, "removed.snippet")


async def _answer_all(app: AppContext, learner: int, guild: int | None, right: bool,
                      lesson: str = "fx-nn", seed: int = 0) -> None:
    async with app.db.sessions.begin() as session:
        view = await app.services.quiz.start(session, learner, guild_id=guild, lesson_id=lesson,
                                             count=3, rng=random.Random(seed))
    current = view
    while current is not None:
        question = current.question
        kwargs: dict[str, object]
        if question.answer_number is not None:
            kwargs = {"value": question.answer_number + (0 if right else 1000)}
        else:
            wrong = next(c.id for c in question.choices if c.id != question.answer_choice)
            kwargs = {"choice_id": question.answer_choice if right else wrong}
        async with app.db.sessions.begin() as session:
            result = await app.services.quiz.record_answer(
                session, current.attempt_id, learner, question.id, **kwargs)  # type: ignore[arg-type]
        current = result.next_question


async def test_points_come_only_from_the_first_correct_answer(app: AppContext) -> None:
    for learner in (ME, YOU):
        await _ensure(app, learner)
    await _answer_all(app, ME, GUILD, right=True)
    await _answer_all(app, ME, GUILD, right=True, seed=1)  # retaking earns nothing more
    await _answer_all(app, YOU, GUILD, right=False)
    await _answer_all(app, YOU, GUILD, right=True, seed=2)  # first right answers count
    async with app.db.sessions() as session:
        board = await app.services.progress.leaderboard(session, GUILD)
    assert [(e.learner_id, e.points) for e in board] == [(ME, 3), (YOU, 3)]
    assert [e.rank for e in board] == [1, 1]


async def test_guild_boards_count_only_answers_given_in_that_guild(app: AppContext) -> None:
    await _ensure(app, ME)
    await _ensure(app, THEM, OTHER_GUILD)
    await _answer_all(app, ME, GUILD, right=True)
    await _answer_all(app, THEM, OTHER_GUILD, right=True)
    await _answer_all(app, THEM, None, right=True, lesson="fx-genai")  # in a DM
    async with app.db.sessions() as session:
        here = await app.services.progress.leaderboard(session, GUILD)
        there = await app.services.progress.leaderboard(session, OTHER_GUILD)
        everywhere = await app.services.progress.leaderboard(session, None)
    assert [(e.learner_id, e.points) for e in here] == [(ME, 3)]
    assert [(e.learner_id, e.points) for e in there] == [(THEM, 3)]
    assert [(e.learner_id, e.points) for e in everywhere] == [(THEM, 6), (ME, 3)]


async def test_the_weekly_board_counts_the_last_seven_days(app: AppContext) -> None:
    for learner in (ME, YOU):
        await _ensure(app, learner)
    await _answer_all(app, ME, GUILD, right=True)
    await _answer_all(app, YOU, GUILD, right=True)
    async with app.db.sessions.begin() as session:
        await session.execute(
            update(QuizAnswer).where(QuizAnswer.learner_id == ME)
            .values(answered_at=datetime.now(UTC) - timedelta(days=8))
        )
    async with app.db.sessions() as session:
        week = await app.services.progress.leaderboard(
            session, GUILD, since=app.services.progress.week_start())
        all_time = await app.services.progress.leaderboard(session, GUILD)
    assert [e.learner_id for e in week] == [YOU]
    assert {e.learner_id for e in all_time} == {ME, YOU}


async def test_progress_summary_has_accuracy_per_lesson_streak_and_rank(app: AppContext) -> None:
    for learner in (ME, YOU):
        await _ensure(app, learner)
    await _answer_all(app, YOU, GUILD, right=True)
    await _answer_all(app, ME, GUILD, right=False)
    await _answer_all(app, ME, GUILD, right=True, lesson="fx-genai")
    async with app.db.sessions.begin() as session:
        await app.services.course.mark_done(session, ME, "fx-genai")
        summary = await app.services.progress.summary(session, ME, guild_id=GUILD)
    by_lesson = {view.lesson.id: view for view in summary.lessons}
    assert (by_lesson["fx-nn"].answered, by_lesson["fx-nn"].correct) == (3, 0)
    assert by_lesson["fx-genai"].accuracy == 1.0
    assert summary.accuracy == 0.5 and summary.completion == 0.5
    assert summary.streak.current == 1 and summary.streak.answered_today
    assert (summary.points, summary.rank) == (3, 1)  # tied with YOU on 3


async def test_streak_days_follow_the_learners_time_zone(app: AppContext) -> None:
    await _ensure(app, ME)
    await _answer_all(app, ME, GUILD, right=True)
    # 23:30 UTC on two consecutive days is 01:30 the next day in Europe/Berlin (summer).
    async with app.db.sessions.begin() as session:
        ids = list(await session.scalars(select(QuizAnswer.id).order_by(QuizAnswer.id)))
        await session.execute(update(QuizAnswer).where(QuizAnswer.id == ids[0]).values(
            answered_at=datetime(2026, 7, 1, 23, 30, tzinfo=UTC)))
        await session.execute(update(QuizAnswer).where(QuizAnswer.id.in_(ids[1:])).values(
            answered_at=datetime(2026, 7, 2, 21, 0, tzinfo=UTC)))
    now = datetime(2026, 7, 2, 22, 30, tzinfo=UTC)  # still July 2 in UTC, July 3 in Berlin
    async with app.db.sessions.begin() as session:
        utc = await app.services.progress.streak(session, ME, "UTC", now)
        berlin = await app.services.progress.streak(session, ME, "Europe/Berlin", now)
    assert (utc.current, utc.answered_today) == (2, True)
    # In Berlin the answers fell on July 2 (01:30) and July 2 (23:00): one day, yesterday.
    assert (berlin.current, berlin.longest, berlin.answered_today) == (1, 1, False)


def test_streak_arithmetic() -> None:
    today = date(2026, 1, 10)
    days = {date(2026, 1, d) for d in (1, 2, 3, 8, 9)}
    streak = streak_from_days(days, today)
    assert (streak.current, streak.longest, streak.answered_today) == (2, 3, False)
    assert streak_from_days(days | {today}, today).current == 3
    assert streak_from_days({date(2026, 1, 7)}, today).current == 0


async def test_feedback_is_stored_with_its_context(app: AppContext) -> None:
    await _ensure(app, ME)
    async with app.db.sessions.begin() as session:
        await app.services.feedback.record(
            session, ME, rating=-1, comment="  confusing  ",
            context=FeedbackContext(question_id="fx-nn.q1", guild_id=GUILD))
    async with app.db.sessions() as session:
        stored = (await app.services.feedback.recent(session))[0]
    assert (stored.rating, stored.comment, stored.lesson_id, stored.guild_id) == (
        -1, "confusing", "fx-nn", GUILD)


@pytest.mark.parametrize(
    ("rating", "comment", "message"),
    [(None, "   ", "Give a rating"), (7, None, "1 to 5"), (None, "x" * 1001, "under 1000")],
)
async def test_bad_feedback_is_refused_and_writes_nothing(
    app: AppContext, rating: int | None, comment: str | None, message: str
) -> None:
    await _ensure(app, ME)
    with pytest.raises(InvalidInputError, match=message):
        async with app.db.sessions.begin() as session:
            await app.services.feedback.record(session, ME, rating=rating, comment=comment)
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Feedback)) == 0


async def test_timezones_are_validated_and_searchable(app: AppContext) -> None:
    await _ensure(app, ME)
    async with app.db.sessions.begin() as session:
        zone = await app.services.learners.set_timezone(session, ME, " america/new_york ")
    assert zone == "America/New_York"
    with pytest.raises(InvalidInputError, match="don't know the time zone"):
        parse_timezone("Mars/Olympus")
    assert "Europe/Berlin" in search_timezones("berl")
    assert len(search_timezones("")) > 0


async def test_ensure_keeps_names_and_memberships(app: AppContext) -> None:
    await _ensure(app, ME)
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, ME, "New name", guild_id=GUILD)
        assert (await app.services.learners.names(session, [ME])) == {ME: "New name"}
        await app.services.learners.ensure(session, ME, "", guild_id=GUILD)  # no name: kept
        assert (await app.services.learners.names(session, [ME])) == {ME: "New name"}
        await app.services.learners.ensure(session, ME, "x" * 300, guild_id=OTHER_GUILD)
    async with app.db.sessions() as session:
        names = await app.services.learners.names(session, [ME, 12345])
    assert names == {ME: "x" * 100}
