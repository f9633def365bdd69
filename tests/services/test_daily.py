"""Daily posts: one claim per (schedule, local date), no repeats, answers in batches, results."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import AppContext
from bot.db.models import QuizAnswer
from bot.db.models.daily import DailyAnswer, DailyPost
from bot.errors import InvalidInputError, NotFoundError
from bot.services.daily import claim_job, finish_job, nonce_for
from bot.services.schedules import choice_pool

GUILD, CHANNEL, MOD = 5001, 6001, 7001
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


async def _schedule(app: AppContext, **kwargs: object) -> int:
    values: dict[str, object] = {
        "guild_id": GUILD, "channel_id": CHANNEL, "created_by": MOD,
        "local_time": "09:00", "timezone": "Europe/Berlin", "now": NOW - timedelta(days=30),
        **kwargs,
    }
    async with app.db.sessions.begin() as session:
        return (await app.services.schedules.add(session, **values)).id  # type: ignore[arg-type]


async def _claim(app: AppContext, schedule_id: int, due: datetime, seed: int = 1):  # type: ignore[no-untyped-def]
    async with app.db.sessions.begin() as session:
        return await app.services.daily.claim(session, schedule_id, due, now=due,
                                              rng=random.Random(seed))


async def test_a_local_date_is_claimed_once(app: AppContext) -> None:
    schedule_id = await _schedule(app)
    first = await _claim(app, schedule_id, NOW)
    assert first is not None
    assert first.local_date == date(2026, 12, 1)
    assert first.nonce == nonce_for(schedule_id, date(2026, 12, 1)) and len(first.nonce) <= 25
    assert first.closes_at == NOW + timedelta(hours=23)
    assert first.question.kind.value in ("single", "true_false")
    # The same local date again (a second fire, a restart, another process): nothing.
    assert await _claim(app, schedule_id, NOW + timedelta(hours=1)) is None
    assert await _claim(app, schedule_id, NOW + timedelta(days=1)) is not None


async def test_concurrent_claims_of_one_day_make_one_post(app: AppContext) -> None:
    schedule_id = await _schedule(app)
    results = await asyncio.gather(*(_claim(app, schedule_id, NOW, seed) for seed in range(8)))
    assert sum(1 for r in results if r is not None) == 1
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DailyPost)) == 1


async def test_paused_and_skipped_days_are_not_claimed(app: AppContext) -> None:
    schedule_id = await _schedule(app)
    async with app.db.sessions.begin() as session:
        await app.services.schedules.skip_next(session, GUILD, schedule_id, now=NOW - timedelta(hours=1))
    assert await _claim(app, schedule_id, NOW) is None
    assert await _claim(app, schedule_id, NOW + timedelta(days=1)) is not None
    async with app.db.sessions.begin() as session:
        await app.services.schedules.pause(session, GUILD, schedule_id)
    assert await _claim(app, schedule_id, NOW + timedelta(days=2)) is None


async def test_questions_do_not_repeat_in_a_channel_until_the_pool_is_used_up(
    app: AppContext,
) -> None:
    schedule_id = await _schedule(app)
    pool = {q.id for q in choice_pool(app.course, None)}
    assert len(pool) == 4  # the fixture's choice questions; numeric ones are never posted
    asked = []
    for day in range(8):
        post = await _claim(app, schedule_id, NOW + timedelta(days=day), seed=day)
        assert post is not None
        asked.append(post.question.id)
    assert set(asked[:4]) == pool and set(asked[4:]) == pool


async def _posted(app: AppContext, schedule_id: int, reveal: str = "at_close") -> int:
    async with app.db.sessions.begin() as session:
        if reveal != "at_close":
            await app.services.schedules.edit(session, GUILD, schedule_id, reveal=reveal)
    post = await _claim(app, schedule_id, NOW)
    assert post is not None
    async with app.db.sessions.begin() as session:
        await app.services.daily.mark_posted(session, post.post_id, 424242, NOW)
    return post.post_id


async def test_a_burst_of_answers_is_recorded_once_each_and_counts_for_points(
    app: AppContext,
) -> None:
    post_id = await _posted(app, await _schedule(app))
    async with app.db.sessions() as session:
        state = await app.services.daily.state(session, post_id, NOW)
    right = state.question.answer_choice
    wrong = next(c.id for c in state.question.choices if c.id != right)
    assert right is not None
    batcher = app.answers
    batcher.clock = lambda: NOW + timedelta(minutes=1)
    learners = list(range(1000, 1200))
    clicks = [batcher.record(post_id, lid, right if lid % 2 else wrong, display_name=f"m{lid}")
              for lid in learners]
    # Double clicks in the same burst, choosing differently: the first answer stands.
    clicks += [batcher.record(post_id, lid, wrong if lid % 2 else right) for lid in learners[:20]]
    results = await asyncio.gather(*clicks)
    assert batcher.batches < 50  # answers shared transactions
    firsts, repeats = results[:200], results[200:]
    assert not any(r.already_answered for r in firsts)
    assert all(r.already_answered for r in repeats)
    assert all(r.correct == (r.learner_id % 2 == 1) for r in results)
    assert all(r.reveal == "at_close" for r in results)
    again = await batcher.record(post_id, 1001, wrong)
    assert again.already_answered and again.correct and again.choice_id == right
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DailyAnswer)) == 200
        # Times are stored as SQLAlchemy stores them, so SQL comparisons hold (on SQLite, text).
        at = NOW + timedelta(minutes=1)
        assert await session.scalar(
            select(func.count()).select_from(DailyAnswer).where(DailyAnswer.answered_at >= at)
        ) == 200
        assert await session.scalar(
            select(func.count()).select_from(QuizAnswer).where(QuizAnswer.daily_post_id == post_id)
        ) == 200
        board = await app.services.progress.leaderboard(session, GUILD, limit=200)
        assert {e.learner_id for e in board} == {lid for lid in learners if lid % 2}
        summary = await app.services.progress.summary(session, 1001, guild_id=GUILD,
                                                      now=NOW + timedelta(minutes=2))
        assert summary.points == 1 and summary.answered == 1 and summary.streak.current == 1


async def test_bad_answers_fail_alone(app: AppContext) -> None:
    post_id = await _posted(app, await _schedule(app), reveal="instant")
    batcher = app.answers
    batcher.clock = lambda: NOW + timedelta(minutes=1)
    async with app.db.sessions() as session:
        question = (await app.services.daily.state(session, post_id, NOW)).question
    good = question.choices[0].id
    results = await asyncio.gather(
        batcher.record(post_id, 1, good),
        batcher.record(post_id, 2, "no-such-choice"),
        batcher.record(post_id + 99, 3, good),
        batcher.record(post_id, 4, good),
        return_exceptions=True,
    )
    assert isinstance(results[1], InvalidInputError)
    assert isinstance(results[2], NotFoundError)
    assert not isinstance(results[0], Exception) and results[0].reveal == "instant"
    assert not isinstance(results[3], Exception) and not results[3].already_answered


async def test_close_gives_the_results_and_refuses_later_answers(app: AppContext) -> None:
    post_id = await _posted(app, await _schedule(app))
    batcher = app.answers
    batcher.clock = lambda: NOW + timedelta(minutes=1)
    async with app.db.sessions() as session:
        question = (await app.services.daily.state(session, post_id, NOW)).question
    right = question.answer_choice
    assert right is not None
    wrong = next(c.id for c in question.choices if c.id != right)
    for index, learner in enumerate(range(1, 9)):
        batcher.clock = lambda i=index: NOW + timedelta(minutes=1 + i)
        await batcher.record(post_id, learner, right if learner != 3 else wrong,
                             display_name=f"member {learner}")
    close_at = NOW + timedelta(hours=23)
    async with app.db.sessions() as session:
        assert await app.services.daily.due_to_close(session, close_at - timedelta(seconds=1)) == []
        assert await app.services.daily.due_to_close(session, close_at) == [post_id]
    async with app.db.sessions.begin() as session:
        results = await app.services.daily.close(session, post_id, close_at)
    assert results.answered == 8 and results.correct == 7
    assert results.share_right == pytest.approx(7 / 8)
    assert results.right_choice is not None and results.right_choice.id == right
    assert [lid for lid, _ in results.first_correct] == [1, 2, 4, 5, 6]
    assert results.first_correct[0][1] == "member 1"
    assert results.message_id == 424242
    batcher.clock = lambda: close_at + timedelta(minutes=1)
    with pytest.raises(InvalidInputError, match="closed"):
        await batcher.record(post_id, 99, right)
    async with app.db.sessions.begin() as session:
        await app.services.daily.mark_results_posted(session, post_id, 515151)
    async with app.db.sessions() as session:
        assert await app.services.daily.due_to_close(session, close_at + timedelta(days=1)) == []
        assert (await app.services.daily.state(session, post_id, close_at)).closed


async def test_a_removed_schedule_leaves_its_post_to_close(app: AppContext) -> None:
    schedule_id = await _schedule(app)
    post_id = await _posted(app, schedule_id)
    async with app.db.sessions.begin() as session:
        await app.services.schedules.remove(session, GUILD, schedule_id)
    async with app.db.sessions() as session:
        assert await app.services.daily.due_to_close(session, NOW + timedelta(days=1)) == [post_id]


async def test_job_claims_are_won_once(app: AppContext) -> None:
    async with app.db.sessions.begin() as session:
        assert await claim_job(session, "digest", "5001:2026-W49")
        assert not await claim_job(session, "digest", "5001:2026-W49")
        assert await claim_job(session, "digest", "5001:2026-W50")
        await finish_job(session, "digest", "5001:2026-W49")


async def test_guild_config_defaults_and_budget_only_lowered(app: AppContext) -> None:
    service = app.services.guild_config
    async with app.db.sessions.begin() as session:
        settings = await service.get(session, GUILD)
        assert settings.timezone == "Etc/UTC" and settings.moderator_role_id is None
        assert settings.daily_token_budget == app.settings.ask.guild_daily_token_budget
        assert settings.ask_allowed_in(123)
        with pytest.raises(InvalidInputError, match="only be lowered"):
            await service.set(session, GUILD, daily_token_budget=10**9)
        changed = await service.set(session, GUILD, moderator_role_id=77, timezone="asia/tokyo",
                                    daily_token_budget=1000, notice_channel_id=88)
        assert (changed.moderator_role_id, changed.timezone, changed.daily_token_budget) == (
            77, "Asia/Tokyo", 1000)
        again = await service.set(session, GUILD, maintainer_role_id=99)
        assert (again.moderator_role_id, again.maintainer_role_id, again.notice_channel_id) == (
            77, 99, 88)
        limited = await service.set_ask_channels(session, GUILD, [1, 2, 2])
        assert limited.ask_channel_ids == {1, 2}
        assert limited.ask_allowed_in(1) and not limited.ask_allowed_in(3)
        assert limited.ask_allowed_in(3, parent_id=2)
        assert (await service.set_ask_channels(session, GUILD, [])).ask_allowed_in(3)
